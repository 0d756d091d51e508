//! Image captchas (CONTRACT §4): 5 characters without look-alikes drawn as a PNG, checked
//! by `md5(lowercase(code) + rand)`, valid 180 s, single use.

use base64::Engine;
use rusqlite::{params, Connection};

use super::tokens::{md5_hex, random_alphanumeric};
use crate::clock::now;

pub const VALID_SECS: i64 = 180;

/// No 0/O/o, 1/I/l/i, 2/Z, 5/S: a person should never have to guess.
const GLYPHS: &[char] = &[
    'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'M', 'N', 'P', 'Q', 'R', 'T', 'U', 'V', 'W', 'X', 'Y', '3', '4',
    '6', '7', '8', '9',
];

pub struct ImageCaptcha {
    pub rand: String,
    pub code: String,
    pub png: Vec<u8>,
}

impl ImageCaptcha {
    pub fn base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.png)
    }
}

/// Draws a captcha. `captcha::Captcha` is not `Send`, so this stays a plain function that
/// callers run on a blocking thread.
pub fn draw() -> Option<ImageCaptcha> {
    let mut image = captcha::Captcha::new();
    image.set_chars(GLYPHS).add_chars(5).apply_filter(captcha::filters::Noise::new(0.2)).view(200, 70);
    let (code, png) = image.as_tuple()?;
    Some(ImageCaptcha { rand: random_alphanumeric(5), code: code.to_lowercase(), png })
}

pub fn store(conn: &Connection, captcha: &ImageCaptcha) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM captcha WHERE expires_at <= ?1", [now()])?;
    conn.execute(
        "INSERT INTO captcha (rand, code, expires_at) VALUES (?1, ?2, ?3)",
        params![captcha.rand, captcha.code, now() + VALID_SECS],
    )?;
    Ok(())
}

/// True when `hash` answers a live captcha; that captcha is then used up. The document's
/// check sends only the hash, so the live captchas are searched for it.
pub fn check(conn: &Connection, hash: &str) -> rusqlite::Result<bool> {
    let hash = hash.trim().to_ascii_lowercase();
    let mut stmt = conn.prepare_cached("SELECT rand, code FROM captcha WHERE expires_at > ?1")?;
    let live: Vec<(String, String)> =
        stmt.query_map([now()], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    match live.into_iter().find(|(rand, code)| md5_hex(&format!("{code}{rand}")) == hash) {
        Some((rand, _)) => {
            conn.execute("DELETE FROM captcha WHERE rand = ?1", [rand])?;
            Ok(true)
        }
        None => Ok(false),
    }
}
