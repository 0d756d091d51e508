//! care (seed 004): administrators' user management and portraits.

use crate::care_support;
use crate::common;

use care_support::*;
use common::TestServer;
use serde_json::json;

#[tokio::test]
async fn administrators_list_read_update_and_delete_users_and_others_get_minus_103() {
    let server = TestServer::start().await;
    let admin = admin(&server, "13500000001").await;
    let alice_phone = "13500000002";
    let alice = user(&server, alice_phone).await;
    ok(call(
        &server,
        "/api/user/info",
        Some(&alice),
        "info",
        "update",
        json!({"phone": alice_phone, "nickname": "蛋蛋"}),
    )
    .await);

    for (subtype, data) in [
        ("list", json!({})),
        ("info", json!({"phone": alice_phone})),
        ("update", json!({"phone": alice_phone, "level": 3})),
        ("delete", json!({"phone": alice_phone})),
    ] {
        let refused = call(&server, "/api/admin/user", Some(&alice), "user", subtype, data).await;
        fails(&refused, -103);
    }

    let list = ok(call(&server, "/api/admin/user", Some(&admin), "user", "list", json!({})).await);
    let list = list.as_array().expect("the list is a plain array");
    assert_eq!(list.len(), 2);
    assert_eq!(list[1], json!({"phone": alice_phone, "name": null, "nickname": "蛋蛋", "email": null, "level": 1}));

    let info = ok(call(&server, "/api/admin/user", Some(&admin), "user", "info", json!({"phone": alice_phone})).await);
    assert_eq!(info["nickname"], "蛋蛋");
    fails(&call(&server, "/api/admin/user", Some(&admin), "user", "info", json!({"phone": "13999999999"})).await, 100);
    fails(&call(&server, "/api/admin/user", Some(&admin), "user", "info", json!({})).await, -3);

    ok(call(
        &server,
        "/api/admin/user",
        Some(&admin),
        "user",
        "update",
        json!({"phone": alice_phone, "name": "钱丹", "email": "3391791582@qq.com", "level": 3}),
    )
    .await);
    let info = ok(get(&server, &format!("/api/user/info?token={alice}")).await);
    assert_eq!(
        info,
        json!({"phone": alice_phone, "name": "钱丹", "nickname": "蛋蛋", "email": "3391791582@qq.com", "level": 3})
    );
    fails(
        &call(
            &server,
            "/api/admin/user",
            Some(&admin),
            "user",
            "update",
            json!({"phone": alice_phone, "level": "high"}),
        )
        .await,
        -203,
    );

    // An administrator changes a level through their own profile too.
    ok(call(&server, "/api/user/info", Some(&admin), "info", "update", json!({"phone": "13500000001", "level": 9}))
        .await);

    let device = add_device(&server, &alice, "cam").await;
    upload(&server, &device, "").await;
    fails(
        &call(&server, "/api/admin/user", Some(&admin), "user", "delete", json!({"phone": "13500000001"})).await,
        -204,
    );
    ok(call(&server, "/api/admin/user", Some(&admin), "user", "delete", json!({"phone": alice_phone})).await);
    fails(&get(&server, &format!("/api/user/doki?token={alice}")).await, 1);
    let left: i64 = server
        .sql()
        .query_row(
            "SELECT COUNT(*) FROM session s JOIN account a ON a.id = s.account_id WHERE a.phone = ?1",
            [alice_phone],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0);
    let bindings: i64 = server.sql().query_row("SELECT COUNT(*) FROM device_binding", [], |r| r.get(0)).unwrap();
    assert_eq!(bindings, 0);
    fails(
        &call(
            &server,
            "/api/user/login",
            None,
            "login",
            "pass",
            json!({"phone": alice_phone, "pass": format!("pass-of-{alice_phone}")}),
        )
        .await,
        100,
    );
}

#[tokio::test]
async fn portraits_upload_shrink_and_fetch_with_the_stand_in_pictures() {
    let server = TestServer::start().await;
    let phone = "13500000011";
    let token = user(&server, phone).await;
    let fetch = |path: String, referer: Option<&'static str>| {
        let server = &server;
        async move {
            let mut req = server.client.get(server.url(&path));
            if let Some(r) = referer {
                req = req.header("referer", r);
            }
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), 200);
            assert_eq!(res.headers()["content-type"], "image/jpeg");
            res.bytes().await.unwrap().to_vec()
        }
    };
    let default = fetch(format!("/care/api/get/portrait/{phone}"), None).await;
    let error = fetch("/care/api/get/portrait/13x".into(), None).await;
    let unknown = fetch("/care/api/get/portrait/13999999999".into(), None).await;
    let ban = fetch(format!("/care/api/get/portrait/{phone}"), Some("http://elsewhere.example/page")).await;
    for picture in [&default, &error, &ban] {
        image::load_from_memory_with_format(picture, image::ImageFormat::Jpeg).expect("a real JPEG");
    }
    assert_eq!(default, unknown);
    assert_ne!(default, error);
    assert_ne!(default, ban);
    assert_ne!(error, ban);

    let big = png_bytes(900, 700, 200);
    let answer = ok(call(
        &server,
        "/api/portrait",
        Some(&token),
        "portrait",
        "upload",
        json!({"base64": format!("data:image/png;base64,{}", b64(&big))}),
    )
    .await);
    assert_eq!(answer, json!({"url": format!("./api/get/portrait/{phone}")}));
    let first_file: String =
        server.sql().query_row("SELECT care_portrait FROM account WHERE phone = ?1", [phone], |r| r.get(0)).unwrap();
    let mine = fetch(format!("/care/api/get/portrait/{phone}"), Some("http://localhost/app")).await;
    let decoded = image::load_from_memory_with_format(&mine, image::ImageFormat::Jpeg).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (512, 398));
    let own_host = format!("{}/index.html", server.base);
    let via_own = server
        .client
        .get(server.url(&format!("/care/api/get/portrait/{phone}")))
        .header("referer", own_host)
        .send()
        .await
        .unwrap();
    assert_eq!(via_own.bytes().await.unwrap().to_vec(), mine);

    ok(call(
        &server,
        "/api/portrait",
        Some(&token),
        "portrait",
        "upload",
        json!({"base64": b64(&png_bytes(40, 40, 10))}),
    )
    .await);
    assert!(
        !server.data().join(format!("uploads/portraits/{first_file}")).exists(),
        "the replaced portrait is deleted"
    );
    assert_eq!(std::fs::read_dir(server.data().join("uploads/portraits")).unwrap().count(), 1);
    fails(
        &call(&server, "/api/portrait", Some(&token), "portrait", "upload", json!({"base64": b64(b"not a picture")}))
            .await,
        -204,
    );
    fails(&call(&server, "/api/portrait", None, "portrait", "upload", json!({"base64": ""})).await, -100);
    let compat = server.client.get(server.url(&format!("/api/get/portrait/{phone}"))).send().await.unwrap();
    assert_eq!(compat.headers()["content-type"], "image/jpeg");
}

#[tokio::test]
async fn configured_referer_hosts_may_embed_portraits() {
    let server = TestServer::start_with(|c| c.care_referer_hosts = vec!["family.example".into()]).await;
    let fetch = |referer: &'static str| {
        let server = &server;
        async move {
            server
                .client
                .get(server.url("/care/api/get/portrait/13500000021"))
                .header("referer", referer)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
                .to_vec()
        }
    };
    let allowed = fetch("https://family.example/album").await;
    let banned = fetch("https://strangers.example/").await;
    assert_ne!(allowed, banned);
}
