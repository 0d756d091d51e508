//! The admin UI in a real browser: Debian's headless Chromium drives the console served by
//! the real app. Every test fails on any console error, uncaught exception or failed load,
//! and writes a screenshot of each page it visits to target/ui-screenshots/.

use crate::admin_ui_support;
use crate::common;

use admin_ui_support::{drive, scalar, sign_in, signed_in_admin, Ui};
use common::TestServer;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_run_setup_then_sign_in_with_the_captcha_after_failures_and_language_remembered() {
    let server = TestServer::start().await;
    let token = server.running().setup_token.clone().expect("a fresh box prints a setup link");
    drive(|| {
        let ui = Ui::launch(&server.base, "setup");
        ui.load(&format!("#/setup/{token}"));
        ui.wait("#setup form");
        ui.select("#lang", "en");
        ui.wait_text("#setup h1", "Create the administrator");
        ui.shot("setup");

        // Validation happens before anything is sent.
        ui.click("#setup button[type=submit]");
        ui.wait_text("#setup .field-error", "Login name is required.");
        ui.fill("#setup [name=loginname]", "boss");
        ui.fill("#setup [name=password]", "short");
        ui.fill("#setup [name=confirm]", "different");
        ui.fill("#setup [name=phone]", "123");
        ui.click("#setup button[type=submit]");
        ui.wait_text("#setup .field-error", "Password needs at least 8 characters.");
        ui.wait_text("#setup .field-error", "The two passwords differ.");
        ui.wait_text("#setup .field-error", "Enter an 11-digit mobile number.");
        ui.shot("setup-invalid");
        assert_eq!(scalar(&server, "SELECT count(*) FROM account"), json!(0), "nothing sent while the form is invalid");

        ui.fill("#setup [name=password]", "correct-horse");
        ui.fill("#setup [name=confirm]", "correct-horse");
        ui.fill("#setup [name=phone]", "13800000001");
        ui.click("#setup button[type=submit]");
        ui.wait_for("location.hash === '#/dashboard'", "the dashboard after setup");
        ui.wait_text("#nav", "Users");
        ui.wait_text(".stat[data-card=users] .stat-value", "1");
        ui.shot("dashboard");
        assert_eq!(scalar(&server, "SELECT phone FROM account WHERE username = 'boss'"), json!("13800000001"));

        // The link works once.
        ui.click("#signout");
        ui.wait("#signin form");
        ui.load(&format!("#/setup/{token}"));
        ui.fill("#setup [name=loginname]", "intruder");
        ui.fill("#setup [name=password]", "another-password");
        ui.fill("#setup [name=confirm]", "another-password");
        ui.click("#setup button[type=submit]");
        ui.wait_text("#setup .form-error", "setup link is not valid");

        // Three wrong passwords: the server asks for the captcha and the form shows it.
        ui.go("#/signin");
        for attempt in 1..=3 {
            sign_in(&ui, "boss", "wrong-password");
            if attempt < 3 {
                ui.wait_text("#signin .form-error", "wrong login name or password");
                ui.js("document.querySelector('#signin .form-error').textContent = ''");
            }
        }
        ui.wait_text("#signin .form-error", "captcha is needed");
        ui.wait_for(
            "document.querySelector('.captcha-img').src.startsWith('data:image/png;base64,')",
            "the captcha image",
        );
        ui.wait("#captcha-row");
        ui.shot("signin-captcha");

        // A wrong answer is refused with the server's message and a new picture.
        let first = ui.js("document.querySelector('.captcha-img').src");
        ui.fill("#signin [name=password]", "correct-horse");
        ui.fill("#signin [name=captcha]", "AAAAA");
        ui.click("#signin button[type=submit]");
        ui.wait_text("#signin .form-error", "captcha answer is wrong");
        ui.wait_for(&format!("document.querySelector('.captcha-img').src !== {first}"), "a new captcha picture");

        // The right answer (read from the server's table, as a person reads the picture) signs in.
        let code = scalar(&server, "SELECT code FROM captcha ORDER BY rowid DESC LIMIT 1");
        ui.fill("#signin [name=password]", "correct-horse");
        ui.fill("#signin [name=captcha]", &code.as_str().unwrap().to_uppercase());
        ui.click("#signin button[type=submit]");
        ui.wait_for("location.hash === '#/dashboard'", "the dashboard after signing in");

        // Language: switch to Chinese, and it stays after a reload.
        ui.select("#lang", "zh-CN");
        ui.wait_text("#nav", "用户");
        ui.wait_text("#view h1", "概览");
        ui.shot("dashboard-zh");
        ui.reload();
        ui.wait_text("#nav", "角色");
        assert_eq!(ui.js("document.documentElement.lang"), json!("zh-CN"));
        assert_eq!(ui.js("localStorage.getItem('hearth.lang')"), json!("zh-CN"));
        ui.select("#lang", "en");
        ui.wait_text("#nav", "Roles");
        ui.reload();
        ui.wait_text("#nav", "Departments");
        ui.assert_no_errors();
    });
}

fn permission_ids_of(server: &TestServer, role: &str) -> Vec<String> {
    let conn = server.sql();
    let mut stmt = conn
        .prepare(
            "SELECT p.permission_value FROM role_permission rp JOIN permission p ON p.id = rp.permission_id
             JOIN role r ON r.id = rp.role_id WHERE r.name = ?1 ORDER BY p.permission_value",
        )
        .unwrap();
    stmt.query_map([role], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_made_in_the_permission_tree_and_assigned_decides_what_a_user_sees() {
    let (server, ui) = signed_in_admin("roles").await;
    drive(|| {
        // A user, created through the form (its validation first).
        ui.mouse_click("#nav a[data-page=users]");
        ui.wait_text("#view h1", "Users");
        ui.wait("tr[data-key=root]");
        ui.click("#add-user");
        ui.wait("dialog form");
        ui.fill("dialog [name=loginname]", "head nurse");
        ui.fill("dialog [name=password]", "12345");
        ui.click("dialog button[type=submit]");
        ui.wait_text("dialog .field-error", "The login name may not contain spaces.");
        ui.wait_text("dialog .field-error", "Name is required.");
        ui.wait_text("dialog .field-error", "Password needs at least 6 characters.");
        ui.type_keys("dialog [name=loginname]", "liuhong");
        ui.fill("dialog [name=name]", "刘红");
        ui.fill("dialog [name=password]", "nurse-password");
        ui.fill("dialog [name=phone]", "13900000002");
        ui.select("dialog [name=sex]", "女");
        ui.shot("user-form");
        ui.click("dialog button[type=submit]");
        ui.wait("tr[data-key=liuhong]");
        ui.wait_text("tr[data-key=liuhong]", "普通用户");
        ui.shot("users");

        // The server's refusal is shown in the form: the login name is taken.
        ui.click("#add-user");
        ui.fill("dialog [name=loginname]", "liuhong");
        ui.fill("dialog [name=name]", "another");
        ui.fill("dialog [name=password]", "another-password");
        ui.click("dialog button[type=submit]");
        ui.wait_text("dialog .form-error", "is taken");
        ui.click("dialog .close");

        // A role, and its permissions ticked in the tree: the users page and its list.
        ui.go("#/roles");
        ui.wait("tr[data-key=管理员]");
        ui.shot("roles");
        ui.click("#add-role");
        ui.fill("dialog [name=name]", "护理组长");
        ui.fill("dialog [name=remark]", "Head of the care team");
        ui.click("dialog button[type=submit]");
        ui.wait("tr[data-key=护理组长]");
        ui.click("tr[data-key=护理组长] button.perms");
        ui.wait("dialog .perm-tree");
        ui.wait_text("dialog details[data-group=admin] .count", "0/");
        ui.check("dialog input[data-value='admin:users']", true);
        ui.check("dialog input[data-value='admin:dashboard']", true);
        ui.fill("dialog .tree-filter", "userList");
        ui.check("dialog input[data-value='system:GET:/api/auth/user/userList']", true);
        ui.wait_for(
            "document.querySelector('dialog input[data-group=system]').indeterminate",
            "the system group to show a partial selection",
        );
        ui.fill("dialog .tree-filter", "");
        ui.shot("role-permissions");
        ui.click("#save-permissions");
        ui.wait_text(".notice", "Permissions of 护理组长 saved");
        assert_eq!(
            permission_ids_of(&server, "护理组长"),
            ["admin:dashboard", "admin:users", "system", "system:GET:/api/auth/user/userList"]
        );

        // The tree shows what was saved.
        ui.click("tr[data-key=护理组长] button.perms");
        ui.wait_for(
            "document.querySelector(\"dialog input[data-value='admin:users']\").checked",
            "the saved page ticked",
        );
        ui.wait_text("dialog details[data-group=admin] .count", "2/");
        ui.click("dialog .close");

        // Assign it to the user instead of 普通用户.
        ui.go("#/users");
        ui.click("tr[data-key=liuhong] button.edit");
        ui.wait("dialog form");
        ui.check_label("dialog fieldset.choices", "普通用户", false);
        ui.check_label("dialog fieldset.choices", "护理组长", true);
        ui.click("dialog button[type=submit]");
        ui.wait_text("tr[data-key=liuhong]", "护理组长");
        let roles: Vec<String> = server
            .sql()
            .prepare("SELECT r.name FROM account_role ar JOIN role r ON r.id = ar.role_id JOIN account a ON a.id = ar.account_id WHERE a.username = 'liuhong'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(roles, ["护理组长"]);

        // Signed in as that user: the navigation has exactly the granted pages.
        ui.click("#signout");
        sign_in(&ui, "liuhong", "nurse-password");
        ui.wait_for("location.hash === '#/dashboard'", "the user's first page");
        ui.wait_text("#who", "刘红");
        assert_eq!(
            ui.js("[...document.querySelectorAll('#nav a')].map((a) => a.dataset.page)"),
            json!(["dashboard", "users"])
        );
        ui.wait_text(".stat[data-card=users] .stat-value", "2");
        ui.go("#/users");
        ui.wait("tr[data-key=liuhong]");
        ui.shot("users-as-head-nurse");
        // A page the role does not grant says so.
        ui.go("#/roles");
        ui.wait_text("#view .empty-state", "None of your roles grants this page");
    });
    ui.assert_no_errors();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn departments_are_added_moved_reordered_and_a_refused_delete_says_why() {
    let (server, ui) = signed_in_admin("departments").await;
    let dept_of = |name: &str| -> (String, i64) {
        server
            .sql()
            .query_row("SELECT dept_code, order_num FROM dept WHERE name = ?1 AND delete_flag = 0", [name], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    drive(|| {
        ui.go("#/departments");
        ui.wait_text("#view .empty-state", "No departments yet.");
        for name in ["总院", "分院"] {
            ui.click("#add-dept");
            ui.fill("dialog [name=name]", name);
            ui.click("dialog button[type=submit]");
            ui.wait(&format!(".dept-row[data-dept={name}]"));
        }
        ui.click(".dept-row[data-dept=总院] button.add-child");
        ui.click("dialog button[type=submit]");
        ui.wait_text("dialog .field-error", "Name is required.");
        ui.fill("dialog [name=name]", "护理部");
        ui.fill("dialog [name=aliasName]", "Nursing");
        ui.click("dialog button[type=submit]");
        ui.wait(".dept-row[data-dept=护理部]");
        assert_eq!(dept_of("护理部").0, "001001");
        ui.shot("tree");

        // Move up: 分院 before 总院.
        ui.click(".dept-row[data-dept=分院] button.up");
        ui.wait_for(
            "[...document.querySelectorAll('.dept-tree > ul > li > .dept-row')].map((r) => r.dataset.dept).join() === '分院,总院'",
            "分院 first",
        );
        assert_eq!((dept_of("分院").1, dept_of("总院").1), (0, 1));

        // Move 护理部 under 分院 with the move dialog; its code follows.
        ui.click(".dept-row[data-dept=护理部] button.move");
        let target = dept_of("分院").0;
        ui.select("dialog [name=parent]", &target);
        ui.click("dialog button[type=submit]");
        ui.wait_text(".notice", "Moved 护理部");
        ui.wait_for("document.querySelector('.dept-row[data-dept=护理部]').closest('ul').closest('li').querySelector('.dept-row').dataset.dept === '分院'", "护理部 under 分院");
        assert_eq!(dept_of("护理部").0, format!("{target}001"));

        // Deleting a department with a sub-department: the server refuses and the page says why.
        ui.click(".dept-row[data-dept=分院] button.delete");
        ui.click("dialog button.danger");
        ui.wait_text(".notice.error", "sub-department");
        ui.shot("delete-refused");
        assert_eq!(dept_of("分院").0, target, "still there");

        // A leaf goes.
        ui.click(".dept-row[data-dept=护理部] button.delete");
        ui.click("dialog button.danger");
        ui.wait_for("!document.querySelector('.dept-row[data-dept=护理部]')", "护理部 gone");
        ui.wait_text(".notice", "Deleted");
    });
    ui.assert_no_errors();
}

/// The pages of this version and what shows each one has loaded.
const PAGES: [(&str, &str); 10] = [
    ("dashboard", ".stat[data-card=users] .stat-value:not(:empty)"),
    ("alerts", "#view .pager-info:not(:empty)"),
    ("devices", "#view .pager-info:not(:empty)"),
    ("users", "tr[data-key=root]"),
    ("roles", "tr[data-key=管理员]"),
    ("data-roles", "tr[data-key=夜班]"),
    ("departments", ".dept-row[data-dept=护理部]"),
    ("sms", "table.list tbody tr"),
    ("open-apps", "#view .pager-info:not(:empty)"),
    ("backups", "#runs .pager-info:not(:empty)"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_loads_without_errors_pages_its_lists_and_works_on_a_phone() {
    let server = TestServer::start().await;
    server.create_admin("root", "root-password").await;
    for i in 1..=24 {
        server.create_user(&format!("resident{i:02}"), "resident-password").await;
    }
    {
        let conn = server.sql();
        for (i, phone) in ["13800000011", "13800000012", "13800000011"].iter().enumerate() {
            conn.execute(
                "INSERT INTO sms_outbox (phone, code, rand, command_type, text, created_at) VALUES (?1, '12345', ?2, 1, ?3, ?4)",
                rusqlite::params![phone, format!("r{i}"), format!("【hearth】您的注册验证码是 1234{i}，3 分钟内有效。"), 1_700_000_000 + i as i64],
            )
            .unwrap();
        }
    }
    let token = server.system_login("root", "root-password").await;
    let res = server
        .client
        .post(server.url("/system/api/auth/dept/saveDept"))
        .bearer_auth(&token)
        .json(&json!({ "parentDeptId": "", "name": "护理部", "aliasName": "Nursing", "orderNum": 0, "enabled": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(common::read(res).await.1["code"], 0);

    let ui = drive(|| {
        let ui = Ui::launch(&server.base, "pages");
        ui.load("#/users");
        ui.select("#lang", "en");
        sign_in(&ui, "root", "root-password");
        ui.wait_for("location.hash === '#/users'", "the page asked for before signing in");

        // Server-side paging: 25 users, 10 per page.
        ui.wait_text(".pager-info", "Page 1 of 3, 25 in all");
        ui.click(".pager-next");
        ui.wait_text(".pager-info", "Page 2 of 3");
        ui.wait("tr[data-key=resident10]");
        ui.select(".pager select", "50");
        ui.wait_text(".pager-info", "Page 1 of 1, 25 in all");

        // A data role with scopes; the editor checks a device number before sending.
        ui.go("#/data-roles");
        ui.wait_text("#view h1", "Data roles");
        ui.click("#add-data-role");
        ui.fill("dialog [name=name]", "夜班");
        ui.click("dialog .add-scope");
        ui.fill("dialog .scope-row:nth-child(1) input", "abc");
        ui.click("dialog .add-scope");
        ui.select("dialog .scope-row:nth-child(2) select", "transit.area");
        ui.fill("dialog .scope-row:nth-child(2) input", "朝阳区");
        ui.click("dialog button[type=submit]");
        ui.wait_text("dialog .form-error", "A device number is digits only: abc");
        ui.fill("dialog .scope-row:nth-child(1) input", "12");
        ui.shot("data-role-form");
        ui.click("dialog button[type=submit]");
        ui.wait_text("tr[data-key=夜班]", "care.device:12");
        ui.wait_text("tr[data-key=夜班]", "transit.area:朝阳区");

        // The outbox, filtered by number.
        ui.go("#/sms");
        ui.wait_text(".pager-info", "3 in all");
        ui.fill(".filters input", "13800000012");
        ui.click(".filters button");
        ui.wait_text(".pager-info", "1 in all");
        ui.wait_text("table.list", "12341");

        // Every page, in both languages.
        for lang in ["en", "zh-CN"] {
            ui.select("#lang", lang);
            for (page, loaded) in PAGES {
                ui.go(&format!("#/{page}"));
                ui.wait(&format!("#nav a.active[data-page={page}]"));
                ui.wait(loaded);
                ui.shot(&format!("{page}-{lang}"));
            }
        }
        ui.select("#lang", "en");
        ui.go("#/nowhere");
        ui.wait_text("#view h1", "Page not found");

        // A phone: 375 px wide, no sideways scrolling, the menu behind a button.
        ui.phone();
        ui.reload();
        ui.wait("#menu-toggle");
        assert_eq!(ui.js("window.innerWidth"), json!(375));
        for (page, loaded) in PAGES {
            ui.go(&format!("#/{page}"));
            ui.wait(loaded);
            ui.wait_for("document.documentElement.scrollWidth <= window.innerWidth", &format!("{page} to fit 375 px"));
            ui.shot(&format!("phone-{page}"));
        }
        assert_eq!(
            ui.js("document.querySelector('#nav').getBoundingClientRect().right <= 0"),
            json!(true),
            "menu closed"
        );
        ui.mouse_click("#menu-toggle");
        ui.wait_for("document.querySelector('#nav').getBoundingClientRect().left >= 0", "the menu drawer open");
        ui.shot("phone-menu");
        ui.mouse_click("#nav a[data-page=roles]");
        ui.wait("tr[data-key=管理员]");
        ui.wait_for("!document.body.classList.contains('nav-open')", "the menu to close after choosing a page");
        ui.click("tr[data-key=管理员] button.perms");
        ui.wait("dialog .perm-tree");
        ui.wait_for("document.querySelector('dialog').getBoundingClientRect().width <= 375", "the dialog to fit");
        ui.shot("phone-role-permissions");
        ui.click("dialog .close");
        ui.click("#signout");
        ui.wait("#signin form");
        ui.wait_for("document.documentElement.scrollWidth <= window.innerWidth", "sign-in to fit 375 px");
        ui.shot("phone-signin");
        ui
    });
    let scopes: Vec<String> = server
        .sql()
        .prepare("SELECT kind || ':' || value FROM data_role_scope ORDER BY kind")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(scopes, ["care.device:12", "transit.area:朝阳区"]);
    ui.assert_no_errors();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_get_a_new_password_are_disabled_enabled_and_deleted_and_refusals_are_shown() {
    let (server, ui) = signed_in_admin("users").await;
    server.create_user("zhangwei", "first-password").await;
    let hash = || scalar(&server, "SELECT password_hash FROM account WHERE username = 'zhangwei'");
    let first_hash = hash();
    let enabled = |name: &str| scalar(&server, &format!("SELECT enabled FROM account WHERE username = '{name}'"));
    drive(|| {
        ui.go("#/users");
        ui.click("tr[data-key=zhangwei] button.password");
        ui.fill("dialog [name=password]", "second-password");
        ui.fill("dialog [name=confirm]", "second-passwort");
        ui.click("dialog button[type=submit]");
        ui.wait_text("dialog .field-error", "The two passwords differ.");
        ui.fill("dialog [name=confirm]", "second-password");
        ui.click("dialog button[type=submit]");
        ui.wait_text(".notice", "Password set");
        assert_ne!(hash(), first_hash);

        ui.click("tr[data-key=zhangwei] button.toggle");
        ui.wait_text("tr[data-key=zhangwei]", "Disabled");
        assert_eq!(enabled("zhangwei"), json!(0));
        ui.click("tr[data-key=zhangwei] button.toggle");
        ui.wait_text("tr[data-key=zhangwei]", "Enabled");
        assert_eq!(enabled("zhangwei"), json!(1));

        // The server refuses to let an account delete itself; the page says why.
        ui.click("tr[data-key=root] button.delete");
        ui.wait_text("dialog", "Delete user root?");
        ui.click("dialog button.danger");
        ui.wait_text(".notice.error", "your own account");
        ui.wait("tr[data-key=root]");

        // Cancelling a confirmation changes nothing; confirming deletes.
        ui.click("tr[data-key=zhangwei] button.delete");
        ui.click_text("dialog", "Cancel");
        ui.wait_for("!document.querySelector('dialog')", "the confirmation closed");
        ui.wait("tr[data-key=zhangwei]");
        ui.click("tr[data-key=zhangwei] button.delete");
        ui.click("dialog button.danger");
        ui.wait_for("!document.querySelector('tr[data-key=zhangwei]')", "zhangwei gone");
        ui.shot("after-delete");

        // A session ended elsewhere: the next call returns to sign-in with the server's
        // message, and signing in again goes back to the page asked for.
        server.sql().execute("DELETE FROM session", []).unwrap();
        server.running().app.identity.forget_callers();
        ui.go("#/roles");
        ui.wait("#signin form");
        ui.wait_text(".notice.error", "log in again");
        sign_in(&ui, "root", "root-password");
        ui.wait_for("location.hash === '#/roles'", "the roles page after signing in again");
        ui.wait("tr[data-key=管理员]");
    });
    assert_eq!(scalar(&server, "SELECT count(*) FROM account WHERE username = 'zhangwei'"), json!(0));
    ui.assert_no_errors();
}
