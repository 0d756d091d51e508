//! The transit analytics page in a real browser, over a small known set of trips: each
//! chart's data read back from ECharts and its canvas checked for the series' colour; the
//! month, date and station pickers redrawing; "no data" states; a picker checked before
//! sending; the server's message on a failure; the CSV exports fetched with the console's
//! token, byte for byte; an analyst's refused export; the dashboard's transit counts; both
//! languages and a 375 px phone.

use crate::admin_ui_support;
use crate::transit_support;

use std::time::{Duration, Instant};

use admin_ui_support::{drive, sign_in, wait_on, Ui};
use serde_json::{json, Value};
use transit_support::{Transit, PASSWORD};

const CHARTS: [&str; 5] = ["age", "daily", "month", "od", "realtime"];
// The series colours of static/pages/transit.js.
const PASSENGERS: (u8, u8, u8) = (0x7a, 0x5c, 0x99);
const TRIPS: (u8, u8, u8) = (0xb5, 0x53, 0x2a);
const IN: (u8, u8, u8) = (0x2f, 0x6d, 0xb5);
const OUT: (u8, u8, u8) = (0xd0, 0x8a, 0x1e);

/// Four stations (StaD without trips); passengers aged 30, 35, 10 and 70 in 2020, the
/// latest trip's year; six trips over three days, one of them a holiday.
async fn load_trips(t: &Transit) {
    for (id, name, area) in
        [(1001, "StaA", "Dist1"), (1002, "StaB", "Dist1"), (1003, "StaC", "Dist2"), (1004, "StaD", "Dist3")]
    {
        t.station(id, name, area).await;
    }
    for (id, birth) in [("p1", 1990), ("p2", 1985), ("p3", 2010), ("p4", 1950)] {
        t.passenger(id, birth).await;
    }
    for (user, from, at, to, until) in [
        ("p1", "StaA", "2020-01-01 08:10:00", "StaB", "2020-01-01 08:40:00"),
        ("p2", "StaA", "2020-01-01 08:20:00", "StaB", "2020-01-01 08:50:00"),
        ("p3", "StaB", "2020-01-01 18:05:00", "StaC", "2020-01-01 18:30:00"),
        ("p1", "StaA", "2020-01-02 09:00:00", "StaC", "2020-01-02 09:30:00"),
        ("p2", "StaC", "2020-02-03 07:15:00", "StaA", "2020-02-03 07:50:00"),
        ("p4", "StaC", "2020-02-03 07:30:00", "StaA", "2020-02-03 08:10:00"),
    ] {
        t.trip(user, from, at, to, until).await;
    }
    let holiday = json!({ "action": "add_workday", "date": "2020-01-01", "date_class": 2 });
    t.ok(reqwest::Method::POST, "/api/manage/workday/create", holiday).await;
}

/// A browser signed in to the console (system login) as `login`, in English.
fn console(t: &Transit, name: &'static str, login: &str) -> Ui {
    let ui = Ui::launch(&t.server.base, name);
    ui.load("#/signin");
    ui.select("#lang", "en");
    sign_in(&ui, login, PASSWORD);
    ui.wait_for("location.hash === '#/dashboard'", "the dashboard");
    ui
}

/// A chart as drawn: its categories and each series' [name, data], read from ECharts;
/// null while the chart is not the one on show (loading, empty or failed).
fn chart(ui: &Ui, id: &str) -> Value {
    ui.js(&format!(
        "(() => {{ const el = document.getElementById('chart-{id}'); if (!el) return null; \
           if (el.closest('.chart-area').dataset.state !== 'drawn') return null; \
           const o = echarts.getInstanceByDom(el).getOption(); \
           const axis = o.yAxis[0].type === 'category' ? o.yAxis[0] : o.xAxis[0]; \
           return {{ categories: axis.data, series: o.series.map((s) => [s.name, s.data]) }}; }})()"
    ))
}

fn wait_chart(ui: &Ui, id: &str, categories: Value, series: Value) {
    let expected = json!({ "categories": categories, "series": series });
    let start = Instant::now();
    loop {
        let shown = chart(ui, id);
        if shown == expected {
            return;
        }
        if start.elapsed() > Duration::from_secs(15) {
            ui.shot(&format!("FAILED-chart-{id}"));
            panic!("chart {id} shows {shown}, expected {expected}; console errors: {:?}", ui.errors());
        }
        std::thread::sleep(Duration::from_millis(60));
    }
}

/// Waits until the chart's canvas holds pixels of the series colour: the data was painted.
fn wait_painted(ui: &Ui, id: &str, (r, g, b): (u8, u8, u8)) {
    ui.wait_for(
        &format!(
            "[...document.querySelectorAll('#chart-{id} canvas')].some((c) => {{ \
               const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; \
               for (let i = 0; i < d.length; i += 4) {{ \
                 if (Math.abs(d[i] - {r}) < 6 && Math.abs(d[i + 1] - {g}) < 6 && Math.abs(d[i + 2] - {b}) < 6 && d[i + 3] > 250) return true; }} \
               return false; }})"
        ),
        &format!("the {id} chart painted in rgb({r}, {g}, {b})"),
    );
}

fn shot_chart(ui: &Ui, id: &str, name: &str) {
    ui.js(&format!("document.getElementById('panel-{id}').scrollIntoView({{ block: 'start' }})"));
    ui.shot(name);
}

/// 24 hourly counts, zero but for the given hours.
fn hours(counts: &[(usize, i64)]) -> Value {
    let mut all = vec![0i64; 24];
    for (hour, n) in counts {
        all[*hour] = *n;
    }
    json!(all)
}

fn hour_labels() -> Value {
    json!((0..24).map(|h| format!("{h:02}:00")).collect::<Vec<_>>())
}

/// The bytes of an export as a client with the token gets them over HTTP.
async fn export_bytes(t: &Transit, model: &str) -> Vec<u8> {
    let res =
        t.server.client.get(t.url(&format!("/api/exports?model={model}"))).bearer_auth(&t.admin).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "application/octet-stream");
    res.bytes().await.unwrap().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_chart_draws_the_known_trips_follows_its_pickers_and_the_exports_carry_the_data() {
    let t = Transit::start().await;
    let ui = drive(|| console(&t, "transit", "boss"));
    drive(|| {
        // Before any data, every chart says there is nothing to draw.
        ui.go("#/transit");
        ui.wait_text("#panel-age .chart-empty", "no passenger has a birth year");
        ui.wait_text("#panel-daily .chart-empty", "there are no trips yet");
        ui.wait_text("#panel-month .chart-empty", "there are no trips yet");
        ui.wait_text("#panel-od .chart-empty", "there are no trips yet");
        ui.wait_text("#panel-realtime .chart-empty", "there are no stations yet");
        ui.shot("empty");

        wait_on(load_trips(&t));
        ui.reload();
        // Every request the page makes from here on, with whether it carried the token.
        ui.wait_text("#panel-daily h2", "Trips per day");
        ui.js("(() => { window.sent = []; const f = window.fetch; window.fetch = (url, o) => { \
               window.sent.push([String(url), (o && o.headers && o.headers.Authorization) === 'Bearer ' + localStorage.getItem('hearth.token')]); \
               return f(url, o); }; })()");

        wait_chart(
            &ui,
            "age",
            json!(["0-6", "7-17", "18-40", "41-65", "66+"]),
            json!([["Passengers", [0, 1, 2, 0, 1]]]),
        );
        wait_painted(&ui, "age", PASSENGERS);
        shot_chart(&ui, "age", "chart-age");
        wait_chart(&ui, "daily", json!(["2020-01-01", "2020-01-02", "2020-02-03"]), json!([["Trips", [3, 1, 2]]]));
        wait_painted(&ui, "daily", TRIPS);
        shot_chart(&ui, "daily", "chart-daily");
        // Without a month: the months of the latest trip's year.
        wait_chart(&ui, "month", json!(["2020-01", "2020-02"]), json!([["Trips", [4, 2]]]));
        wait_painted(&ui, "month", TRIPS);
        shot_chart(&ui, "month", "chart-month");
        // The date pickers start at the latest day with trips; the station at the first station.
        assert_eq!(ui.js("document.querySelector('#panel-od [name=date]').value"), json!("2020-02-03"));
        wait_chart(&ui, "od", json!(["StaC → StaA"]), json!([["Trips", [2]]]));
        wait_painted(&ui, "od", TRIPS);
        shot_chart(&ui, "od", "chart-od");
        assert_eq!(ui.js("document.querySelector('#panel-realtime [name=station]').value"), json!("StaA"));
        assert_eq!(
            ui.js("[...document.querySelectorAll('#panel-realtime [name=station] option')].map((o) => o.value)"),
            json!(["StaA", "StaB", "StaC", "StaD"])
        );
        wait_chart(&ui, "realtime", hour_labels(), json!([["In", hours(&[])], ["Out", hours(&[(7, 1), (8, 1)])]]));
        wait_painted(&ui, "realtime", OUT);
        shot_chart(&ui, "realtime", "chart-realtime");

        // The month picker: the days of a month, an empty month, back to the months.
        ui.select("#panel-month [name=month]", "2020-01");
        wait_chart(&ui, "month", json!(["2020-01-01", "2020-01-02"]), json!([["Trips", [3, 1]]]));
        ui.select("#panel-month [name=month]", "2020-03");
        ui.wait_text("#panel-month .chart-empty", "there were no trips in 2020-03");
        assert_eq!(
            ui.js("document.getElementById('chart-month').getClientRects().length"),
            json!(0),
            "no empty chart on show"
        );
        shot_chart(&ui, "month", "chart-month-empty");
        ui.select("#panel-month [name=month]", "");
        wait_chart(&ui, "month", json!(["2020-01", "2020-02"]), json!([["Trips", [4, 2]]]));

        // OD: another day, one station's pairs, more pairs asked for, a day without trips.
        ui.select("#panel-od [name=date]", "2020-01-01");
        wait_chart(&ui, "od", json!(["StaA → StaB", "StaB → StaC"]), json!([["Trips", [2, 1]]]));
        ui.select("#panel-od [name=station]", "StaC");
        wait_chart(&ui, "od", json!(["StaB → StaC"]), json!([["Trips", [1]]]));
        ui.select("#panel-od [name=limit]", "20");
        ui.wait_for("window.sent.some(([url]) => url.includes('/api/echarts/od') && url.includes('limit=20') && url.includes('station=StaC'))", "the OD request for 20 pairs");
        ui.select("#panel-od [name=station]", "");
        ui.select("#panel-od [name=date]", "2020-03-01");
        ui.wait_text("#panel-od .chart-empty", "there were no trips on 2020-03-01");

        // One station's hours: another station and day; in and out both painted.
        ui.select("#panel-realtime [name=station]", "StaB");
        ui.select("#panel-realtime [name=date]", "2020-01-01");
        wait_chart(&ui, "realtime", hour_labels(), json!([["In", hours(&[(18, 1)])], ["Out", hours(&[(8, 2)])]]));
        wait_painted(&ui, "realtime", IN);
        wait_painted(&ui, "realtime", OUT);
        shot_chart(&ui, "realtime", "chart-realtime-stab");

        // A picker is checked before anything is sent.
        let before = ui.js("window.sent.length");
        ui.select("#panel-realtime [name=date]", "");
        ui.wait_text("#panel-realtime .field-error", "Date is required.");
        assert_eq!(ui.js("window.sent.length"), before, "nothing sent while the date is missing");
        ui.select("#panel-realtime [name=date]", "2020-01-01");
        wait_chart(&ui, "realtime", hour_labels(), json!([["In", hours(&[(18, 1)])], ["Out", hours(&[(8, 2)])]]));

        // The server's message when it refuses: a station deleted since the list was read.
        let gone = json!({ "action": "del_station", "station_id": 1004 });
        wait_on(t.ok(reqwest::Method::DELETE, "/api/manage/station/delete", gone));
        ui.select("#panel-realtime [name=station]", "StaD");
        ui.wait_text("#panel-realtime .chart-error", "there is no station StaD");
        assert_eq!(ui.js("document.getElementById('chart-realtime').getClientRects().length"), json!(0));
        shot_chart(&ui, "realtime", "chart-realtime-error");
        assert_eq!(
            ui.js("window.sent.every(([, token]) => token)"),
            json!(true),
            "every call carried the console's token"
        );

        // Exports: fetched with the token, handed over as a file, the server's bytes exactly.
        ui.js(
            "(() => { window.saved = []; const make = URL.createObjectURL; \
               URL.createObjectURL = (b) => { const i = window.saved.push(null) - 1; \
                 b.arrayBuffer().then((a) => { window.saved[i] = [...new Uint8Array(a)]; }); return make(b); }; \
               window.files = []; const click = HTMLAnchorElement.prototype.click; \
               HTMLAnchorElement.prototype.click = function () { if (this.download) window.files.push(this.download); return click.call(this); }; })()",
        );
        for (i, (model, file)) in [
            ("trip", "trips.csv"),
            ("station", "stations.csv"),
            ("workday", "workdays.csv"),
            ("passenger", "users.csv"),
        ]
        .iter()
        .enumerate()
        {
            ui.click(&format!("button.export[data-model={model}]"));
            ui.wait_for(
                &format!("window.saved.length === {} && window.saved[{i}] !== null", i + 1),
                &format!("the {model} export"),
            );
            assert_eq!(ui.js(&format!("window.files[{i}]")), json!(file));
            let fetched: Vec<u8> = serde_json::from_value(ui.js(&format!("window.saved[{i}]"))).unwrap();
            assert_eq!(fetched, wait_on(export_bytes(&t, model)), "{model}: the page saved what the server exports");
            let text = String::from_utf8(fetched).unwrap();
            assert!(text.starts_with('\u{feff}'), "{model}: UTF-8 with BOM");
            match *model {
                "trip" => assert_eq!(text.lines().count(), 7, "a header and six trips:\n{text}"),
                "station" => assert!(text.contains("1001,StaA,1号线,Dist1") && !text.contains("StaD"), "{text}"),
                "passenger" => assert!(text.contains("p4") && text.contains("1950"), "{text}"),
                _ => assert_eq!(text, "\u{feff}日期,日期分类\n2020-01-01,2\n"),
            }
        }

        // The dashboard counts trips, stations and passengers.
        ui.go("#/dashboard");
        ui.wait_text(".stat[data-card=transit-trips] .stat-value", "6");
        ui.wait_text(".stat[data-card=transit-trips] .stat-note", "2020-01-01 to 2020-02-03");
        ui.wait_text(".stat[data-card=transit-stations] .stat-value", "3");
        ui.wait_text(".stat[data-card=transit-passengers] .stat-value", "4");
        assert_eq!(ui.js("!!document.querySelector('.stat.unavailable[data-card=transit]')"), json!(false));
        ui.shot("dashboard");

        // Chinese: the page's texts and the charts' series names follow.
        ui.select("#lang", "zh-CN");
        ui.go("#/transit");
        ui.wait_text("#view h1", "客流分析");
        ui.wait_text("#panel-od h2", "热门起讫站点");
        wait_chart(&ui, "daily", json!(["2020-01-01", "2020-01-02", "2020-02-03"]), json!([["出行", [3, 1, 2]]]));
        wait_chart(&ui, "realtime", hour_labels(), json!([["进站", hours(&[])], ["出站", hours(&[(7, 1), (8, 1)])]]));
        ui.shot("zh");
        ui.select("#lang", "en");

        // A phone: one column, each chart as wide as its panel, nothing scrolls sideways.
        ui.phone();
        ui.reload();
        ui.go("#/transit");
        wait_chart(&ui, "daily", json!(["2020-01-01", "2020-01-02", "2020-02-03"]), json!([["Trips", [3, 1, 2]]]));
        for id in CHARTS {
            ui.wait(&format!("#panel-{id} .chart-area[data-state=drawn]"));
            ui.wait_for(
                &format!(
                    "(() => {{ const el = document.getElementById('chart-{id}'); const c = echarts.getInstanceByDom(el); \
                       return c.getWidth() === el.clientWidth && el.getBoundingClientRect().right <= window.innerWidth; }})()"
                ),
                &format!("the {id} chart to fit the phone"),
            );
            shot_chart(&ui, id, &format!("phone-{id}"));
        }
        ui.wait_for("document.documentElement.scrollWidth <= window.innerWidth", "the page to fit 375 px");
        ui.js("document.getElementById('exports').scrollIntoView()");
        ui.shot("phone-exports");
    });
    ui.assert_no_errors();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_analyst_reads_the_charts_types_a_station_and_is_refused_the_exports() {
    let t = Transit::start().await;
    load_trips(&t).await;
    let ui = drive(|| console(&t, "transit-analyst", "analyst"));
    drive(|| {
        // Trips come from the figures analysts hold; the station count is refused.
        ui.wait_text(".stat[data-card=transit-trips] .stat-value", "6");
        ui.wait_text(".stat[data-card=transit-stations] .stat-value.error", "—");
        ui.wait_text(".stat[data-card=transit-stations] .stat-note", "no permission for GET /api/manage/station/list");
        ui.shot("dashboard");

        ui.go("#/transit");
        ui.wait_text("#stations-note", "no permission for GET /api/manage/station/list");
        wait_chart(&ui, "daily", json!(["2020-01-01", "2020-01-02", "2020-02-03"]), json!([["Trips", [3, 1, 2]]]));
        wait_chart(
            &ui,
            "age",
            json!(["0-6", "7-17", "18-40", "41-65", "66+"]),
            json!([["Passengers", [0, 1, 2, 0, 1]]]),
        );
        // The station is typed, suggested from the stations with trips on the latest day.
        assert_eq!(
            ui.js("[...document.querySelectorAll('#stations-realtime option')].map((o) => o.value)"),
            json!(["StaA", "StaC"])
        );
        wait_chart(&ui, "realtime", hour_labels(), json!([["In", hours(&[])], ["Out", hours(&[(7, 1), (8, 1)])]]));
        ui.fill("#panel-realtime [name=station]", "");
        ui.click("#panel-realtime button[type=submit]");
        ui.wait_text("#panel-realtime .field-error", "Station is required.");
        ui.fill("#panel-realtime [name=station]", "StaC");
        ui.click("#panel-realtime button[type=submit]");
        wait_chart(&ui, "realtime", hour_labels(), json!([["In", hours(&[(7, 2)])], ["Out", hours(&[])]]));
        ui.fill("#panel-realtime [name=station]", "Nowhere");
        ui.click("#panel-realtime button[type=submit]");
        ui.wait_text("#panel-realtime .chart-error", "there is no station Nowhere");

        // Exports are for administrators: the server's refusal, word for word.
        ui.js("(() => { window.saved = 0; const make = URL.createObjectURL; URL.createObjectURL = (b) => { window.saved++; return make(b); }; })()");
        ui.click("button.export[data-model=trip]");
        ui.wait_text(".notice.error", "需要高级管理员权限才可导出数据");
        ui.wait_for("!document.querySelector('button.export[data-model=trip]').disabled", "the export button back");
        assert_eq!(ui.js("window.saved"), json!(0), "nothing handed over as a file");
        ui.shot("export-refused");
    });
    ui.assert_no_errors();
}
