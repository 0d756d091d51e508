//! `/rest`: the Subsonic API (1.16.1 with the OpenSubsonic extensions) over the music
//! surface's library, for the apps people already use (DSub, Symfonium, Ultrasonic, …).
//! Every method answers at `/rest/<method>` and `/rest/<method>.view`, by GET or by POST
//! with a form body. Clients sign in with an app password (`identity::app_passwords`),
//! never the account's own password, and see what `/music/api` would show that account.

mod activity;
mod library;
mod media;
mod playlists;
mod queue;
mod reply;
mod songs;

use std::sync::Arc;

use poem::http::{header, Method};
use poem::{Endpoint, EndpointExt, Request, Response};

pub use reply::{Fault, Format, VERSION};

use crate::identity::app_passwords::AppCredential;
use crate::identity::{Caller, IdentityError};
use crate::AppState;

/// The most a POST form body may hold: Subsonic parameters are short (ids, names, a token).
pub const BODY_LIMIT: usize = 16 * 1024;

/// The `/rest` endpoint, to nest at the root beside the surfaces.
pub fn routes(app: Arc<AppState>) -> impl Endpoint<Output = Response> {
    poem::Route::new().at("/:method", poem::endpoint::make(move |req| serve(app.clone(), req))).map_to_response()
}

/// The request's parameters, query and form together, in order, repeats kept.
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect()
    }

    pub fn require(&self, key: &str) -> Result<&str, Fault> {
        self.get(key).ok_or_else(|| Fault::missing(key))
    }

    /// An optional whole number; present but not a number is a generic error naming it.
    pub fn int(&self, key: &str) -> Result<Option<i64>, Fault> {
        self.get(key).map(|v| number(key, v)).transpose()
    }

    /// A whole number between `min` and `max`, `default` when absent.
    pub fn int_in(&self, key: &str, default: i64, min: i64, max: i64) -> Result<i64, Fault> {
        let value = self.int(key)?.unwrap_or(default);
        if !(min..=max).contains(&value) {
            return Err(Fault::generic(format!("{key} must be between {min} and {max}")));
        }
        Ok(value)
    }

    /// The client's name (`c`), as stored with what it reports: at most 100 characters.
    pub fn player(&self) -> String {
        self.get("c").unwrap_or("").chars().take(100).collect()
    }
}

fn number(key: &str, value: &str) -> Result<i64, Fault> {
    value.trim().parse().map_err(|_| Fault::generic(format!("{key} must be a whole number, not '{value}'")))
}

/// What a method answers: the envelope's body, or a file (stream, download, cover art).
pub enum Answer {
    Body(serde_json::Value),
    File(Response),
}

pub type Outcome = Result<Answer, Fault>;

async fn serve(app: Arc<AppState>, mut req: Request) -> poem::Result<Response> {
    let method = req.path_params::<String>().unwrap_or_default();
    let method = method.strip_suffix(".view").unwrap_or(&method).to_owned();
    let mut pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(req.uri().query().unwrap_or("")).unwrap_or_default();
    let form = read_form(&mut req).await;
    let format_of = |pairs: &[(String, String)]| match pairs.iter().find(|(k, _)| k == "f").map(|(_, v)| v.as_str()) {
        Some("json") => Format::Json,
        _ => Format::Xml,
    };
    let form = match form {
        Ok(form) => form,
        Err(fault) => return Ok(reply::failed(format_of(&pairs), &fault)),
    };
    pairs.extend(form);
    let params = Params(pairs);
    let format = format_of(&params.0);
    let answer = async {
        check_version(&params)?;
        let caller = authenticate(&app, &req, &params).await?;
        authorize(&app, &caller, &method).await?;
        dispatch(&app, &req, &caller, &method, &params).await
    }
    .await;
    Ok(match answer {
        Ok(Answer::Body(body)) => reply::ok(format, body),
        Ok(Answer::File(response)) => response,
        Err(fault) => reply::failed(format, &fault),
    })
}

/// A POST's form body (at most `BODY_LIMIT`); other methods and empty bodies give none.
async fn read_form(req: &mut Request) -> Result<Vec<(String, String)>, Fault> {
    if req.method() != Method::POST {
        return Ok(Vec::new());
    }
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT) {
        return Err(Fault::generic(format!("the form body is larger than {BODY_LIMIT} bytes")));
    }
    let bytes =
        req.take_body().into_bytes_limit(BODY_LIMIT).await.map_err(|_| {
            Fault::generic(format!("the form body could not be read or is larger than {BODY_LIMIT} bytes"))
        })?;
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(Fault::generic("a POST body must be application/x-www-form-urlencoded"));
    }
    serde_urlencoded::from_bytes(&bytes).map_err(|e| Fault::generic(format!("the form body is not valid: {e}")))
}

/// `v`, the client's protocol version: 20 when it is older than 1.x, 30 when newer than
/// this server's 1.16.
fn check_version(params: &Params) -> Result<(), Fault> {
    let v = params.require("v")?;
    let mut parts = v.split('.').map(|p| p.trim().parse::<u32>());
    let (major, minor) = match (parts.next(), parts.next()) {
        (Some(Ok(major)), Some(Ok(minor))) => (major, minor),
        _ => return Err(Fault::generic(format!("v must be a version such as {VERSION}, not '{v}'"))),
    };
    if major < 1 {
        return Err(Fault::new(20, format!("incompatible protocol version {v}: the client must upgrade to 1.x")));
    }
    if (major, minor) > (1, 16) {
        return Err(Fault::new(30, format!("incompatible protocol version {v}: this server speaks {VERSION}")));
    }
    Ok(())
}

/// Reads the credential the spec allows (exactly one kind) and checks it through the
/// identity core, which counts failures per client address like every other login.
async fn authenticate(app: &AppState, req: &Request, params: &Params) -> Result<Caller, Fault> {
    let credential = credential(params)?;
    let is_key = matches!(credential, AppCredential::ApiKey(_));
    let client = crate::surfaces::client::client_key(req.remote_addr());
    app.identity.authenticate_app(&client, credential).await.map_err(|e| match e {
        IdentityError::WrongCredentials if is_key => Fault::new(44, "the API key is not valid (or was revoked)"),
        IdentityError::WrongCredentials => Fault::wrong_credentials(),
        IdentityError::Disabled | IdentityError::Banned => Fault::not_authorized(e.to_string()),
        IdentityError::RateLimited(secs) => {
            Fault::generic(format!("too many failed logins from this address; retry in {secs} s"))
        }
        other => Fault::from(crate::surfaces::Failure::from(other)),
    })
}

fn credential(params: &Params) -> Result<AppCredential, Fault> {
    let (user, password, token, salt) = (params.get("u"), params.get("p"), params.get("t"), params.get("s"));
    if let Some(key) = params.get("apiKey") {
        if user.is_some() || password.is_some() || token.is_some() {
            return Err(Fault::new(43, "send either apiKey or u with p or t+s, not both"));
        }
        return Ok(AppCredential::ApiKey(key.to_owned()));
    }
    let username = params.require("u")?.to_owned();
    match (password, token, salt) {
        (Some(_), Some(_), _) => Err(Fault::new(43, "send either p or t+s, not both")),
        (Some(password), None, _) => Ok(AppCredential::Password { username, password: plain_password(password)? }),
        (None, Some(token), Some(salt)) => {
            Ok(AppCredential::Token { username, token: token.to_owned(), salt: salt.to_owned() })
        }
        (None, Some(_), None) => Err(Fault::missing("s")),
        (None, None, _) => Err(Fault::missing("p")),
    }
}

/// `p` as sent, or hex-decoded when it starts with `enc:`.
fn plain_password(p: &str) -> Result<String, Fault> {
    match p.strip_prefix("enc:") {
        None => Ok(p.to_owned()),
        Some(hex_text) => hex::decode(hex_text)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(Fault::wrong_credentials),
    }
}

/// The operation each method acts through (surface, verb, path), so that `/rest` grants
/// exactly what `/music/api` grants the same account: a role without the song list cannot
/// browse or stream here either. Starting a folder scan is the system surface's operation,
/// as in the console. Methods about the server or the caller itself need only a sign-in.
fn operation(method: &str) -> Option<(&'static str, Method, &'static str)> {
    if method == "startScan" {
        return Some(("system", Method::POST, "/api/music/scan"));
    }
    let (verb, path) = match method {
        "ping" | "getLicense" | "getOpenSubsonicExtensions" | "getUser" | "getMusicFolders" | "tokenInfo" => {
            return None
        }
        // A rating is, like a favourite, the caller's own word about a song.
        "star" | "setRating" => (Method::PUT, "/api/music/fav"),
        "unstar" => (Method::DELETE, "/api/music/fav"),
        "getPlaylists" => (Method::GET, "/api/musiclist"),
        "getPlaylist" => (Method::GET, "/api/musiclist/detail"),
        "createPlaylist" => (Method::POST, "/api/musiclist"),
        "updatePlaylist" => (Method::PUT, "/api/musiclist"),
        "deletePlaylist" => (Method::DELETE, "/api/musiclist"),
        "getSimilarSongs" | "getSimilarSongs2" | "getTopSongs" => (Method::GET, "/api/musiclist/recommend"),
        "getAvatar" => (Method::GET, "/api/user"),
        // Every read of songs, albums, artists, lyrics and files, the scan's progress, and
        // unknown methods (which then answer 70 only to those who may read the library).
        _ => (Method::GET, "/api/music"),
    };
    Some(("music", verb, path))
}

async fn authorize(app: &AppState, caller: &Caller, method: &str) -> Result<(), Fault> {
    let Some((surface, verb, path)) = operation(method) else { return Ok(()) };
    let op = app
        .operations
        .get()
        .and_then(|ops| ops.resolve(surface, &verb, path))
        .ok_or_else(|| Fault::generic(format!("the {surface} operation {verb} {path} is not catalogued")))?;
    app.identity.authorize(caller, op).await.map_err(|e| match e {
        IdentityError::Forbidden(why) => Fault::new(50, why),
        other => Fault::generic(other.to_string()),
    })
}

async fn dispatch(app: &Arc<AppState>, req: &Request, caller: &Caller, method: &str, p: &Params) -> Outcome {
    match method {
        "ping" => Ok(Answer::Body(serde_json::json!({}))),
        "getLicense" => songs::license(),
        "getOpenSubsonicExtensions" => songs::extensions(),
        "getUser" => songs::user(app, caller, p).await,
        "tokenInfo" => songs::token_info(app, caller).await,
        "getMusicFolders" => songs::music_folders(),
        "getSong" => songs::song(app, caller, p).await,
        "getRandomSongs" => songs::random(app, caller, p).await,
        "search2" => songs::search(app, caller, p, "searchResult2").await,
        "search3" => songs::search(app, caller, p, "searchResult3").await,
        "getStarred" => songs::starred(app, caller, "starred").await,
        "getStarred2" => songs::starred(app, caller, "starred2").await,
        "star" => songs::star(app, caller, p, true).await,
        "unstar" => songs::star(app, caller, p, false).await,
        "setRating" => activity::set_rating(app, caller, p).await,
        "scrobble" => activity::scrobble(app, caller, p).await,
        "getNowPlaying" => activity::now_playing(app, caller).await,
        "getLyrics" => activity::lyrics(app, caller, p).await,
        "getLyricsBySongId" => activity::lyrics_by_song(app, caller, p).await,
        "getSimilarSongs" => activity::similar(app, caller, p, "similarSongs").await,
        "getSimilarSongs2" => activity::similar(app, caller, p, "similarSongs2").await,
        "getTopSongs" => activity::top_songs(app, caller, p).await,
        "getAvatar" => activity::avatar(app, req, p).await,
        "getGenres" => library::genres(app, caller).await,
        "getSongsByGenre" => library::songs_by_genre(app, caller, p).await,
        "getArtists" => library::artists(app, caller, "artists").await,
        "getIndexes" => library::artists(app, caller, "indexes").await,
        "getArtist" => library::artist(app, caller, p).await,
        "getAlbum" => library::album(app, caller, p).await,
        "getMusicDirectory" => library::directory(app, caller, p).await,
        "getAlbumList" => library::album_list(app, caller, p, "albumList").await,
        "getAlbumList2" => library::album_list(app, caller, p, "albumList2").await,
        "startScan" => library::scan_status(app, true),
        "getScanStatus" => library::scan_status(app, false),
        "stream" | "download" => media::stream(app, req, caller, p).await,
        "getCoverArt" => media::cover_art(app, req, caller, p).await,
        "getPlaylists" => playlists::list(app, caller, p).await,
        "getPlaylist" => playlists::one(app, caller, p).await,
        "createPlaylist" => playlists::create(app, caller, p).await,
        "updatePlaylist" => playlists::update(app, caller, p).await,
        "deletePlaylist" => playlists::delete(app, caller, p).await,
        "savePlayQueue" => queue::save(app, caller, p, queue::Current::Id).await,
        "savePlayQueueByIndex" => queue::save(app, caller, p, queue::Current::Index).await,
        "getPlayQueue" => queue::get(app, caller, queue::Current::Id).await,
        "getPlayQueueByIndex" => queue::get(app, caller, queue::Current::Index).await,
        other => Err(Fault::new(70, format!("hearth does not offer the method '{other}'"))),
    }
}
