//! Music accounts: signup and login rules, the caller's details, avatar, password, logout,
//! and the permission and ban requests with their approval by administrators.

use crate::common;
use crate::music_support;

use common::TestServer;
use music_support::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn signup_and_login_follow_the_documented_rules() {
    let server = TestServer::start().await;
    data(signup(&server, "zhangsan", "Ajm564237").await);
    for (username, password, field) in [
        ("short", "Ajm564237", "username"),
        ("has space", "Ajm564237", "username"),
        ("张三zhangsan", "Ajm564237", "username"),
        ("lisi_01", "ajm564237", "password"),
        ("lisi_01", "AJM564237", "password"),
        ("lisi_01", "Ajmabcdef", "password"),
        ("lisi_01", "Aj5", "password"),
    ] {
        let message = failed(signup(&server, username, password).await, 400);
        assert!(message.starts_with(field), "{username}/{password}: {message}");
    }
    assert!(failed(signup(&server, "zhangsan", "Ajm564237").await, 409).contains("taken"));
    let missing = call(&server, Method::POST, "/api/user/signup", None, form(&[("username", "lisi_01")])).await;
    assert!(failed(missing, 400).contains("password"));

    let xml = server
        .client
        .post(server.url("/music/api/user/login"))
        .header("content-type", "application/xml")
        .body("<login/>")
        .send()
        .await
        .unwrap();
    assert!(failed(common::read(xml).await, 400).contains("content type"));
    // JSON is read too.
    data(
        call(
            &server,
            Method::POST,
            "/api/user/login",
            None,
            Body::Json(json!({"username": "zhangsan", "password": "Ajm564237"})),
        )
        .await,
    );

    let token = data(login(&server, "zhangsan", "Ajm564237").await);
    assert_eq!(token.as_str().unwrap().split('.').count(), 3, "a JWT");
    assert!(failed(login(&server, "zhangsan", "Wrong12345").await, 401).contains("wrong"));
    failed(login(&server, "nobody_here", "Ajm564237").await, 401);

    // The detail of the new account; the token works raw and as Bearer.
    let me = data(call(&server, Method::GET, "/api/user", Some(token.as_str().unwrap()), Body::None).await);
    assert_eq!(me["username"], "zhangsan");
    assert_eq!(me["nickname"], "zhangsan");
    assert_eq!(me["permission"], "user");
    assert_eq!(me["profile"], "{}");
    assert_eq!(me["isBanned"], false);
    assert!(me["bannedStart"].is_null() && me["bannedEnd"].is_null());
    assert_eq!(me["createdTime"].as_str().unwrap().len(), 19, "yyyy-MM-dd HH:mm:ss");
    let bearer = format!("Bearer {}", token.as_str().unwrap());
    assert_eq!(data(call(&server, Method::GET, "/api/user", Some(&bearer), Body::None).await)["uid"], me["uid"]);
}

#[tokio::test]
async fn every_user_endpoint_needs_a_token() {
    let server = TestServer::start().await;
    for (method, path) in [
        (Method::GET, "/api/user"),
        (Method::PUT, "/api/user"),
        (Method::PATCH, "/api/user/avatar"),
        (Method::PATCH, "/api/user/password"),
        (Method::PATCH, "/api/user/permission"),
        (Method::PATCH, "/api/user/ban"),
        (Method::POST, "/api/user/logout"),
        (Method::GET, "/api/univer/tasklist"),
        (Method::PATCH, "/api/univer/banuser"),
    ] {
        let message = failed(call(&server, method.clone(), path, None, Body::None).await, 401);
        assert!(message.contains("not logged in"), "{method} {path}: {message}");
    }
    failed(call(&server, Method::GET, "/api/user", Some("not-a-jwt"), Body::None).await, 401);
}

#[tokio::test]
async fn details_update_with_validation_and_only_for_oneself() {
    let server = TestServer::start().await;
    let (uid, token) = user(&server, "wangba_1").await;
    let (other, _) = user(&server, "wangba_2").await;
    let update = json!({"uid": uid, "nickname": "wb", "emailAddress": "wb@itcast.cn", "phoneNumber": "11122223333", "profile": "{\"city\":\"Beijing\"}"});
    data(call(&server, Method::PUT, "/api/user", Some(&token), Body::Json(update.clone())).await);
    let me = data(call(&server, Method::GET, "/api/user", Some(&token), Body::None).await);
    assert_eq!(
        (me["nickname"].clone(), me["emailAddress"].clone(), me["phoneNumber"].clone()),
        (json!("wb"), json!("wb@itcast.cn"), json!("11122223333"))
    );
    assert_eq!(me["profile"], "{\"city\":\"Beijing\"}");

    for (field, value) in [
        ("nickname", json!("")),
        ("nickname", json!("x".repeat(21))),
        ("emailAddress", json!("not-an-email")),
        ("phoneNumber", json!("123456789012345678901")),
        ("phoneNumber", json!("+86 138")),
        ("profile", json!("{not json")),
    ] {
        let mut body = update.clone();
        body[field] = value;
        let message = failed(call(&server, Method::PUT, "/api/user", Some(&token), Body::Json(body)).await, 400);
        assert!(message.starts_with(field), "{field}: {message}");
    }
    let missing =
        failed(call(&server, Method::PUT, "/api/user", Some(&token), Body::Json(json!({"nickname": "x"}))).await, 400);
    assert!(missing.contains("uid"), "{missing}");
    let mut someone_else = update.clone();
    someone_else["uid"] = json!(other);
    failed(call(&server, Method::PUT, "/api/user", Some(&token), Body::Json(someone_else)).await, 403);
}

#[tokio::test]
async fn avatar_by_url_or_upload() {
    let server = TestServer::start().await;
    let (_, token) = user(&server, "avatar_user").await;
    let url = "https://big-event-gwd.oss-cn-beijing.aliyuncs.com/9bf1cf5b-1420-4c1b-91ad-e0f4631cbed4.png";
    let res = server
        .client
        .patch(server.url("/music/api/user/avatar"))
        .query(&[("avatarUrl", url)])
        .header("Authorization", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(data(common::read(res).await), url);
    assert_eq!(data(call(&server, Method::GET, "/api/user", Some(&token), Body::None).await)["avatarUrl"], url);
    failed(
        call(&server, Method::PATCH, "/api/user/avatar?avatarUrl=javascript:alert(1)", Some(&token), Body::None).await,
        400,
    );
    failed(call(&server, Method::PATCH, "/api/user/avatar", Some(&token), Body::None).await, 400);

    // An uploaded image becomes an absolute URL on this server, served back as is.
    let image = png(8, 8);
    let form = reqwest::multipart::Form::new().part("file", file_part(image.clone(), "me.png", "image/png"));
    let served_at = data(call(&server, Method::PATCH, "/api/user/avatar", Some(&token), Body::Multipart(form)).await);
    let served_at = served_at.as_str().unwrap().to_owned();
    assert!(served_at.starts_with(&format!("{}/music/api/files/avatars/", server.base)), "{served_at}");
    let bytes = server.client.get(&served_at).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(bytes.as_ref(), image.as_slice());
    assert_eq!(stored(&server, "portraits").len(), 1);

    // Replacing it removes the old file; a non-image is refused and leaves nothing.
    let form = reqwest::multipart::Form::new().part("file", file_part(png(2, 2), "me2.png", "image/png"));
    data(call(&server, Method::PATCH, "/api/user/avatar", Some(&token), Body::Multipart(form)).await);
    assert_eq!(stored(&server, "portraits").len(), 1);
    let form = reqwest::multipart::Form::new().part("file", file_part(b"GIF89a....".to_vec(), "x.gif", "image/gif"));
    assert!(failed(call(&server, Method::PATCH, "/api/user/avatar", Some(&token), Body::Multipart(form)).await, 400)
        .contains("image"));
    assert_eq!(stored(&server, "portraits").len(), 1);
}

#[tokio::test]
async fn password_change_and_logout_end_sessions() {
    let server = TestServer::start().await;
    let (_, token) = user(&server, "pw_change").await;
    let change = |old: &str, new: &str, re: &str| Body::Json(json!({"old_pwd": old, "new_pwd": new, "re_pwd": re}));
    assert!(failed(
        call(&server, Method::PATCH, "/api/user/password", Some(&token), change(PASSWORD, "Bnk123456", "Bnk123457"))
            .await,
        400
    )
    .contains("re_pwd"));
    assert!(failed(
        call(&server, Method::PATCH, "/api/user/password", Some(&token), change(PASSWORD, "234567", "234567")).await,
        400
    )
    .contains("new_pwd"));
    assert!(failed(
        call(&server, Method::PATCH, "/api/user/password", Some(&token), change("Wrong1234", "Bnk123456", "Bnk123456"))
            .await,
        400
    )
    .contains("old_pwd"));
    data(
        call(&server, Method::PATCH, "/api/user/password", Some(&token), change(PASSWORD, "Bnk123456", "Bnk123456"))
            .await,
    );
    failed(call(&server, Method::GET, "/api/user", Some(&token), Body::None).await, 401);
    failed(login(&server, "pw_change", PASSWORD).await, 401);
    let fresh = data(login(&server, "pw_change", "Bnk123456").await).as_str().unwrap().to_owned();

    data(call(&server, Method::POST, "/api/user/logout", Some(&fresh), Body::None).await);
    failed(call(&server, Method::GET, "/api/user", Some(&fresh), Body::None).await, 401);
}

#[tokio::test]
async fn permission_request_approved_by_an_administrator_takes_effect() {
    let server = TestServer::start().await;
    let (uid, token) = user(&server, "wannabe_creator").await;
    let (_, admin) = admin(&server, "root_admin").await;
    let (_, other) = user(&server, "bystander").await;

    // A 普通用户 cannot upload yet.
    let upload = multipart(&[("musicname", "x"), ("creator", "1"), ("album", "1"), ("publishedTime", "1")])
        .part("res", file_part(wav(100), "a.wav", "audio/wav"));
    failed(call(&server, Method::POST, "/api/music", Some(&token), Body::Multipart(upload)).await, 403);

    let bad = call(
        &server,
        Method::PATCH,
        "/api/user/permission",
        Some(&token),
        form(&[("uid", uid.to_string().as_str()), ("newPermission", "emperor")]),
    )
    .await;
    assert!(failed(bad, 400).contains("newPermission"));
    let task = data(
        call(
            &server,
            Method::PATCH,
            "/api/user/permission",
            Some(&token),
            form(&[("uid", uid.to_string().as_str()), ("newPermission", "creator")]),
        )
        .await,
    );
    let task_id = task.as_i64().unwrap();
    failed(
        call(
            &server,
            Method::PATCH,
            "/api/user/permission",
            Some(&token),
            form(&[("uid", uid.to_string().as_str()), ("newPermission", "creator")]),
        )
        .await,
        409,
    );

    // The requester sees it; a bystander does not and may not look; the administrator sees all.
    let mine = data(call(&server, Method::GET, "/api/univer/tasklist", Some(&token), Body::None).await);
    assert_eq!(mine[0]["taskId"], task_id);
    assert_eq!(mine[0]["beOperator"], uid);
    assert_eq!(mine[0]["perimission"], "user");
    assert!(mine[0]["operator"].is_null());
    assert_eq!(mine[0]["detail"]["operation"], "updatePermission");
    assert_eq!(mine[0]["detail"]["status"], "TOC");
    assert_eq!(mine[0]["detail"]["update-to"], "creator");
    assert!(mine[0]["detail"]["created_time"].as_i64().unwrap() > 1_700_000_000_000, "milliseconds");
    assert_eq!(data(call(&server, Method::GET, "/api/univer/tasklist", Some(&other), Body::None).await), json!([]));
    failed(call(&server, Method::GET, &format!("/api/univer/tasklist?uid={uid}"), Some(&other), Body::None).await, 403);
    let (_, all) = call(&server, Method::GET, "/api/univer/tasklist", Some(&admin), Body::None).await;
    assert_eq!(all["total"], 1);

    // A 普通用户 gets 403 on an administrator operation.
    failed(
        call(
            &server,
            Method::PATCH,
            "/api/univer/permission",
            Some(&other),
            form(&[("taskId", task_id.to_string().as_str())]),
        )
        .await,
        403,
    );
    // The wrong approval endpoint says which one to use.
    assert!(failed(
        call(
            &server,
            Method::PATCH,
            "/api/univer/banuser",
            Some(&admin),
            form(&[("taskId", task_id.to_string().as_str())])
        )
        .await,
        400
    )
    .contains("/api/univer/permission"));
    failed(call(&server, Method::PATCH, "/api/univer/permission", Some(&admin), form::<&str>(&[])).await, 400);
    failed(call(&server, Method::PATCH, "/api/univer/permission", Some(&admin), form(&[("taskId", "999")])).await, 404);
    data(
        call(
            &server,
            Method::PATCH,
            "/api/univer/permission",
            Some(&admin),
            Body::Multipart(multipart(&[("taskid", task_id.to_string().as_str())])),
        )
        .await,
    );
    failed(
        call(
            &server,
            Method::PATCH,
            "/api/univer/reject",
            Some(&admin),
            form(&[("taskId", task_id.to_string().as_str())]),
        )
        .await,
        409,
    );

    // Effective on the next request, with the same token.
    assert_eq!(data(call(&server, Method::GET, "/api/user", Some(&token), Body::None).await)["permission"], "creator");
    add_song(&server, &token, "first song", uid.to_string().as_str()).await;
    let done = data(call(&server, Method::GET, "/api/univer/tasklist", Some(&token), Body::None).await);
    assert_eq!(done[0]["detail"]["status"], "DONE");
    assert!(done[0]["operator"].is_i64() && done[0]["detail"]["finished_time"].is_i64());

    // Only a 超级管理员 may approve making someone a 管理员.
    let (_, manager) = manager(&server, "plain_manager").await;
    let ask = data(
        call(
            &server,
            Method::PATCH,
            "/api/user/permission",
            Some(&token),
            form(&[("uid", uid.to_string().as_str()), ("newPermission", "admin")]),
        )
        .await,
    );
    failed(
        call(
            &server,
            Method::PATCH,
            "/api/univer/permission",
            Some(&manager),
            form(&[("taskId", ask.to_string().as_str())]),
        )
        .await,
        403,
    );
    data(
        call(
            &server,
            Method::PATCH,
            "/api/univer/reject",
            Some(&manager),
            form(&[("taskId", ask.to_string().as_str())]),
        )
        .await,
    );
    let tasks = data(call(&server, Method::GET, "/api/univer/tasklist", Some(&token), Body::None).await);
    assert_eq!(tasks[0]["detail"]["status"], "REJECTED");
    assert_eq!(data(call(&server, Method::GET, "/api/user", Some(&token), Body::None).await)["permission"], "creator");
}

#[tokio::test]
async fn approved_ban_ends_sessions_and_refuses_login() {
    let server = TestServer::start().await;
    let (uid, token) = user(&server, "leaving_user").await;
    let (other, other_token) = user(&server, "other_user").await;
    let (_, admin) = admin(&server, "root_admin").await;

    // Non-administrators may only ask to ban themselves.
    failed(
        call(
            &server,
            Method::PATCH,
            "/api/user/ban",
            Some(&other_token),
            form(&[("uid", uid.to_string().as_str()), ("isBanned", "true")]),
        )
        .await,
        403,
    );
    failed(
        call(
            &server,
            Method::PATCH,
            "/api/user/ban",
            Some(&token),
            form(&[("uid", uid.to_string().as_str()), ("isBanned", "maybe")]),
        )
        .await,
        400,
    );
    let task = data(
        call(
            &server,
            Method::PATCH,
            "/api/user/ban",
            Some(&token),
            form(&[("uid", uid.to_string().as_str()), ("isBanned", "true")]),
        )
        .await,
    );
    let listed = data(call(&server, Method::GET, "/api/univer/tasklist", Some(&admin), Body::None).await);
    assert_eq!(listed[0]["detail"]["update-to"], true);
    assert_eq!(listed[0]["detail"]["operation"], "banUser");

    data(
        call(
            &server,
            Method::PATCH,
            "/api/univer/banuser",
            Some(&admin),
            form(&[("taskId", task.to_string().as_str())]),
        )
        .await,
    );
    failed(call(&server, Method::GET, "/api/user", Some(&token), Body::None).await, 401);
    assert!(failed(login(&server, "leaving_user", PASSWORD).await, 403).contains("banned"));

    // An administrator asks to lift it, and approves.
    let lift = data(
        call(
            &server,
            Method::PATCH,
            "/api/user/ban",
            Some(&admin),
            form(&[("uid", uid.to_string().as_str()), ("isBanned", "false")]),
        )
        .await,
    );
    data(
        call(
            &server,
            Method::PATCH,
            "/api/univer/banuser",
            Some(&admin),
            form(&[("taskId", lift.to_string().as_str())]),
        )
        .await,
    );
    let back = music_support::token(&server, "leaving_user").await;
    let me = data(call(&server, Method::GET, "/api/user", Some(&back), Body::None).await);
    assert_eq!(me["isBanned"], false);
    assert!(me["bannedStart"].is_string() && me["bannedEnd"].is_string(), "{me}");

    // A rejected ban changes nothing.
    let task = data(
        call(
            &server,
            Method::PATCH,
            "/api/user/ban",
            Some(&other_token),
            form(&[("uid", other.to_string().as_str()), ("isBanned", "1")]),
        )
        .await,
    );
    data(call(&server, Method::PATCH, "/api/univer/reject", Some(&admin), Body::Json(json!({"taskId": task}))).await);
    data(call(&server, Method::GET, "/api/user", Some(&other_token), Body::None).await);
}
