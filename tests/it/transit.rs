//! The transit surface's management endpoints in the document's shapes: login, trips,
//! stations, workdays, passengers, filters, paging, sort, actions and permissions.

use crate::transit_support;

use reqwest::Method;
use serde_json::json;
use transit_support::{failed, read, Transit, PASSWORD};

#[tokio::test]
async fn login_info_and_logout() {
    let t = Transit::start().await;
    let (_, wrong) =
        t.server.post_json("/transit/api/userprofile/login", &json!({ "username": "boss", "password": "nope" })).await;
    assert_eq!(failed(&wrong), "用户名或者密码错误");
    let info = t.get("/api/userprofile/info", &t.user).await;
    assert_eq!(
        (info["code"].clone(), info["data"]["username"].clone(), info["data"]["is_admin"].clone()),
        (json!(2000), json!("rider"), json!(false))
    );
    let info = t.server.get_auth("/transit/api/userprofile/info", &t.admin).await.1;
    assert_eq!(info["data"]["roles"], json!(["超级管理员"]));
    let out = t.post("/api/userprofile/logout", &t.user, json!({})).await;
    assert_eq!(out, json!({ "code": 2000 }));
    assert!(failed(&t.get("/api/userprofile/info", &t.user).await).contains("log in again"));
    let again = transit_support::login(&t.server, "rider").await;
    assert_eq!(t.get("/api/userprofile/info", &again).await["code"], 2000);
    let _ = PASSWORD;
}

#[tokio::test]
async fn stations_create_list_update_delete() {
    let t = Transit::start().await;
    t.station(1004, "Sta18", "Dist1").await;
    t.station(1006, "Sta159", "Dist1").await;
    t.station(1010, "Sta3", "Dist2").await;
    let dup = t
        .post(
            "/api/manage/station/create",
            &t.admin,
            json!({ "action": "add_station", "station_id": 1004, "station_name": "Other" }),
        )
        .await;
    assert!(failed(&dup).contains("该记录已经存在"));
    let list = t.get("/api/manage/station/list?action=list_station", &t.admin).await;
    assert_eq!(list["total"], 3);
    assert_eq!(
        list["data"][0],
        json!({ "station_id": 1004, "station_name": "Sta18", "station_route": "1号线", "admin_area": "Dist1" })
    );
    let dist1 = t.get("/api/manage/station/list?admin_area=Dist1&sort=-station_id&limit=1", &t.admin).await;
    assert_eq!((dist1["total"].clone(), dist1["data"][0]["station_id"].clone()), (json!(2), json!(1006)));
    let page2 = t.get("/api/manage/station/list?page=2&limit=2", &t.admin).await;
    assert_eq!(page2["data"].as_array().unwrap().len(), 1);
    assert_eq!(page2["data"][0]["station_name"], "Sta3");
    let named = t.get("/api/manage/station/list?station_name=Sta159", &t.admin).await;
    assert_eq!(named["data"][0]["station_id"], 1006);
    t.ok(Method::PUT, "/api/manage/station/update", json!({ "action": "modify_station", "station_id": 1006, "station_name": "Sta159", "station_route": "2号线", "admin_area": "Dist4" })).await;
    let changed = t.get("/api/manage/station/list?station_id=1006", &t.admin).await;
    assert_eq!(
        (changed["data"][0]["station_route"].clone(), changed["data"][0]["admin_area"].clone()),
        (json!("2号线"), json!("Dist4"))
    );
    let missing =
        t.delete("/api/manage/station/delete", &t.admin, json!({ "action": "del_station", "station_id": 888 })).await;
    assert_eq!(failed(&missing), "id为888的记录不存在");
    t.passenger("p1", 1990).await;
    t.trip("p1", "Sta18", "2020-07-15 14:21:58.000000", "Sta3", "2020-07-15 14:39:29.000000").await;
    let used =
        t.delete("/api/manage/station/delete", &t.admin, json!({ "action": "del_station", "station_id": 1004 })).await;
    assert!(failed(&used).contains("has trips"));
    t.ok(Method::DELETE, "/api/manage/station/delete", json!({ "action": "del_station", "station_id": 1006 })).await;
    assert_eq!(t.get("/api/manage/station/list", &t.admin).await["total"], 2);
    let bad_sort = t.get("/api/manage/station/list?sort=colour", &t.admin).await;
    assert!(failed(&bad_sort).contains("cannot sort by `colour`"));
}

#[tokio::test]
async fn workdays_create_list_update_delete() {
    let t = Transit::start().await;
    t.ok(
        Method::POST,
        "/api/manage/workday/create",
        json!({ "action": "add_workday", "date": "2019-12-31", "date_class": 3 }),
    )
    .await;
    t.ok(
        Method::POST,
        "/api/manage/workday/create",
        json!({ "action": "add_workday", "date": "2020-01-01", "date_class": 3 }),
    )
    .await;
    t.ok(
        Method::POST,
        "/api/manage/workday/create",
        json!({ "action": "add_workday", "date": "2020-01-02", "date_class": "1" }),
    )
    .await;
    let dup = t
        .post(
            "/api/manage/workday/create",
            &t.admin,
            json!({ "action": "add_workday", "date": "2020-01-02", "date_class": 1 }),
        )
        .await;
    assert!(failed(&dup).contains("该记录已经存在"));
    let list = t.get("/api/manage/workday/list?action=list_workday&cls=3&sort=-date", &t.admin).await;
    assert_eq!(
        list["data"],
        json!([{ "date": "2020-01-01", "date_class": 3 }, { "date": "2019-12-31", "date_class": 3 }])
    );
    assert_eq!(list["total"], 2);
    t.ok(
        Method::PUT,
        "/api/manage/workday/update",
        json!({ "action": "modify_workday", "date": "2020-01-01", "date_class": 1 }),
    )
    .await;
    let one = t.get("/api/manage/workday/list?date=2020-01-01", &t.admin).await;
    assert_eq!(one["data"], json!([{ "date": "2020-01-01", "date_class": 1 }]));
    t.ok(Method::DELETE, "/api/manage/workday/delete", json!({ "action": "del_workday", "date": "2020-01-01" })).await;
    let gone = t
        .delete("/api/manage/workday/delete", &t.admin, json!({ "action": "del_workday", "date": "2020-01-01" }))
        .await;
    assert!(failed(&gone).contains("2020-01-01"));
    let incomplete = t
        .put("/api/manage/workday/update", &t.admin, json!({ "action": "modify_workday", "date": "2020-01-02" }))
        .await;
    assert!(failed(&incomplete).contains("数据不全"));
    assert_eq!(t.get("/api/manage/workday/list", &t.admin).await["total"], 2);
}

#[tokio::test]
async fn passengers_on_both_paths_with_both_spellings() {
    let t = Transit::start().await;
    let id = "d4ec5a712f2b24ce226970a8d315dfce";
    t.ok(
        Method::POST,
        "/api/manager/passenger/create",
        json!({ "action": "add_passenger", "passenger_id": id, "dist": 5105, "brith": 1987, "gender": 1 }),
    )
    .await;
    t.ok(
        Method::POST,
        "/api/manage/passenger/create",
        json!({ "action": "add_passager", "passenger_id": "p2", "dist": 5106, "birth": 1988, "gender": 0 }),
    )
    .await;
    let dup = t.post("/api/manage/passenger/create", &t.admin, json!({ "passenger_id": id, "dist": 1 })).await;
    assert!(failed(&dup).contains("该记录已经存在"));
    let list = t.get("/api/manage/passenger?action=list_passenger", &t.admin).await;
    assert_eq!(list["total"], 2);
    assert_eq!(
        list["data"][0],
        json!({ "passenger_id": id, "uesr_id": id, "dist": 5105, "birth": 1987, "brith": 1987, "gender": 1 })
    );
    let filtered = t.get("/api/manage/passenger/list?gender=0", &t.admin).await;
    assert_eq!((filtered["total"].clone(), filtered["data"][0]["passenger_id"].clone()), (json!(1), json!("p2")));
    let sorted = t.get("/api/manage/passenger/list?sort=-birth&limit=1", &t.admin).await;
    assert_eq!(sorted["data"][0]["birth"], 1988);
    // The document's own example sends action modify_trip to this endpoint.
    t.ok(
        Method::PUT,
        "/api/manage/passenger/update",
        json!({ "action": "modify_trip", "passenger_id": id, "dist": 5105, "brith": 1980, "gender": 1 }),
    )
    .await;
    let one = t.get(&format!("/api/manage/passenger?passenger_id={id}"), &t.admin).await;
    assert_eq!(one["data"][0]["brith"], 1980);
    let wrong =
        t.put("/api/manage/passenger/update", &t.admin, json!({ "action": "del_trip", "passenger_id": id })).await;
    assert!(failed(&wrong).contains("action `del_trip`"));
    t.ok(Method::DELETE, "/api/manage/passenger/delete", json!({ "action": "del_passenger", "passenger_id": id }))
        .await;
    let gone = t
        .delete("/api/manage/passenger/delete", &t.admin, json!({ "action": "del_passenger", "passenger_id": id }))
        .await;
    assert_eq!(failed(&gone), format!("id为{id}的记录不存在"));
}

async fn trips_fixture(t: &Transit) {
    t.station(1004, "Sta18", "Dist1").await;
    t.station(1005, "Sta9", "Dist1").await;
    t.station(1006, "Sta65", "Dist2").await;
    t.trip("u1", "Sta18", "2020-07-15 14:21:58.000000", "Sta9", "2020-07-15 14:39:29.000000").await;
    t.trip("u1", "Sta9", "2020-07-15 18:00:00", "Sta18", "2020-07-15T18:20:00").await;
    t.trip("u2", "Sta65", "2020-07-16 08:00:00", "Sta9", "2020-07-16 08:30:00").await;
    let body = json!({ "action": "add_trip", "uesr_id": "u3", "in_station": "Sta65", "in_station_time": "2020-07-16 09:00:00",
        "out_station": "Sta65", "out_station_time": "2020-07-16 09:10:00", "channel": 1, "price": 500 });
    t.ok(Method::POST, "/api/manage/trip/create?action=add_trip", body).await;
}

#[tokio::test]
async fn trips_list_with_filters_paging_sort_and_every_token_place() {
    let t = Transit::start().await;
    trips_fixture(&t).await;
    let all = t.get("/api/manage/trip/list?action=list_trip", &t.admin).await;
    assert_eq!(all["total"], 4);
    assert_eq!(
        all["data"][0],
        json!({ "id": 1, "user_id": "u1", "uesr_id": "u1", "in_station": "Sta18", "in_station_time": "2020-07-15 14:21:58.000000",
                "out_station": "Sta9", "out_station_time": "2020-07-15 14:39:29.000000", "channel": 3, "price": 200 })
    );
    let ids = |body: &serde_json::Value| {
        body["data"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect::<Vec<_>>()
    };
    let by_station = t.get("/api/manage/trip/list?station=Sta9", &t.admin).await;
    assert_eq!((ids(&by_station), by_station["total"].clone()), (vec![1, 2, 3], json!(3)));
    assert_eq!(
        ids(&t.get("/api/manage/trip/list?station=Sta9&sort=-in_station_time&limit=2", &t.admin).await),
        vec![3, 2]
    );
    assert_eq!(ids(&t.get("/api/manage/trip/list?station=Sta9&page=2&limit=2", &t.admin).await), vec![3]);
    assert_eq!(ids(&t.get("/api/manage/trip/list?station=Sta9&sort=-id", &t.admin).await), vec![3, 2, 1]);
    let by_day = t.get("/api/manage/trip/list?date=2020-07-16", &t.admin).await;
    assert_eq!((ids(&by_day), by_day["total"].clone()), (vec![3, 4], json!(2)));
    let station_day = t.get("/api/manage/trip/list?date=2020-07-16&station=Sta65", &t.admin).await;
    assert_eq!((ids(&station_day), station_day["total"].clone()), (vec![3, 4], json!(2)));
    let station_all_days = t.get("/api/manage/trip/list?station=Sta65", &t.admin).await;
    assert_eq!(station_all_days["total"], 2);
    assert_eq!(ids(&t.get("/api/manage/trip/list?uid=u1", &t.admin).await), vec![1, 2]);
    assert_eq!(ids(&t.get("/api/manage/trip/list?id=3", &t.admin).await), vec![3]);
    assert_eq!(ids(&t.get("/api/manage/trip/list?channel=1", &t.admin).await), vec![4]);
    let priced = t.get("/api/manage/trip/list?price=200&date=2020-07-15", &t.admin).await;
    assert_eq!((ids(&priced), priced["total"].clone()), (vec![1, 2], json!(2)));
    assert_eq!(ids(&t.get("/api/manage/trip/list?sort=-in_station_time&limit=2", &t.admin).await), vec![4, 3]);
    let page2 = t.get("/api/manage/trip/list?page=2&limit=3", &t.admin).await;
    assert_eq!((ids(&page2), page2["total"].clone()), (vec![4], json!(4)));
    assert_eq!(t.get("/api/manage/trip/list?station=Nowhere", &t.admin).await["total"], 0);
    assert!(failed(&t.get("/api/manage/trip/list?sort=speed", &t.admin).await).contains("cannot sort"));
    assert!(failed(&t.get("/api/manage/trip/list?limit=5000", &t.admin).await).contains("limit"));
    assert!(failed(&t.get("/api/manage/trip/list?action=list_station", &t.admin).await).contains("list_trip"));
    // Bearer instead of the query token.
    let (_, bearer) = t.server.get_auth("/transit/api/manage/trip/list?limit=1", &t.admin).await;
    assert_eq!((bearer["code"].clone(), bearer["total"].clone()), (json!(2000), json!(4)));
    let (_, none) = read(t.server.client.get(t.url("/api/manage/trip/list")).send().await.unwrap()).await;
    assert!(failed(&none).contains("no token"));
}

#[tokio::test]
async fn trips_update_and_delete_with_json_bodies() {
    let t = Transit::start().await;
    trips_fixture(&t).await;
    let dup = t.post("/api/manage/trip/create", &t.admin, json!({ "action": "add_trip", "user_id": "u1", "in_station": "Sta18",
        "in_station_time": "2020-07-15 14:21:58", "out_station": "Sta65", "out_station_time": "2020-07-15 15:00:00", "channel": 3, "price": 200 })).await;
    assert!(failed(&dup).contains("该记录已经存在"));
    let partial = t
        .post(
            "/api/manage/trip/create",
            &t.admin,
            json!({ "action": "add_trip", "user_id": "u1", "in_station": "Sta18" }),
        )
        .await;
    assert!(failed(&partial).contains("数据不全"));
    let unknown = t
        .post(
            "/api/manage/trip/create",
            &t.admin,
            json!({ "user_id": "u1", "in_station": "Sta404", "in_station_time": "2020-07-15 10:00:00",
        "out_station": "Sta9", "out_station_time": "2020-07-15 10:30:00", "channel": 3, "price": 200 }),
        )
        .await;
    assert!(failed(&unknown).contains("Sta404"));
    t.ok(Method::PUT, "/api/manage/trip/update", json!({ "action": "modify_trip", "id": 1, "user_id": "u9", "in_station": "Sta18",
        "in_station_time": "2020-07-14 07:00:00.000000", "out_station": "Sta65", "out_station_time": "2020-07-14 07:40:00.000000", "channel": 2, "price": 300 })).await;
    let one = t.get("/api/manage/trip/list?id=1", &t.admin).await;
    assert_eq!(one["data"][0]["uesr_id"], "u9");
    assert_eq!(one["data"][0]["out_station"], "Sta65");
    assert_eq!(one["data"][0]["in_station_time"], "2020-07-14 07:00:00.000000");
    let daily = t.get("/api/echarts/daily?date=2020-07-14", &t.admin).await;
    assert_eq!(daily["data"], json!([{ "date": "2020-07-14", "count": 1 }]));
    let missing =
        t.put("/api/manage/trip/update", &t.admin, json!({ "action": "modify_trip", "id": 888, "price": 1 })).await;
    assert_eq!(failed(&missing), "id为888的记录不存在");
    t.ok(Method::DELETE, "/api/manage/trip/delete", json!({ "action": "del_trip", "id": 1 })).await;
    let again = t.delete("/api/manage/trip/delete", &t.admin, json!({ "action": "del_trip", "id": 1 })).await;
    assert_eq!(failed(&again), "id为1的记录不存在");
    let mismatch = t.delete("/api/manage/trip/delete", &t.admin, json!({ "action": "del_station", "id": 2 })).await;
    assert!(failed(&mismatch).contains("del_trip"));
    assert_eq!(t.get("/api/manage/trip/list", &t.admin).await["total"], 3);
    assert_eq!(t.get("/api/echarts/daily?date=2020-07-14", &t.admin).await["data"][0]["count"], 0);
}

#[tokio::test]
async fn an_ordinary_user_cannot_manage_and_an_analyst_only_reads_charts() {
    let t = Transit::start().await;
    trips_fixture(&t).await;
    for (method, path, body) in [
        (
            Method::POST,
            "/api/manage/station/create",
            json!({ "action": "add_station", "station_id": 2000, "station_name": "X" }),
        ),
        (Method::DELETE, "/api/manage/trip/delete", json!({ "action": "del_trip", "id": 1 })),
        (Method::PUT, "/api/manage/workday/update", json!({ "date": "2020-01-01", "date_class": 1 })),
    ] {
        let answer = t.send(method, path, &t.user, body).await;
        assert!(failed(&answer).contains("no permission"), "{path}: {answer}");
    }
    assert!(failed(&t.get("/api/manage/trip/list", &t.user).await).contains("no permission"));
    assert!(failed(&t.get("/api/echarts/daily", &t.user).await).contains("no permission"));
    assert!(failed(&t.get("/api/manage/passenger", &t.analyst).await).contains("no permission"));
    assert_eq!(t.get("/api/echarts/daily", &t.analyst).await["code"], 2000);
    assert_eq!(t.get("/api/manage/trip/list", &t.admin).await["total"], 4);
}
