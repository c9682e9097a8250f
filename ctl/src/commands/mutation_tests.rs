//! `--dry-run`, `patch`, `edit` and `diff` against an in-process apiserver: what reaches
//! the store, what the server refuses, and what the editor and diff programs are handed.

use super::Ctx;
use super::apply::{Outcome, apply_doc};
use super::diff::{DiffArgs, diff_with};
use super::edit::{EditArgs, edit_with};
use super::meta::{Changes, Field, label_object};
use super::patch::patch_object;
use crate::api::reason_of;
use crate::args::{Cli, Command, DryRun, FileArgs};
use crate::manifests::Doc;
use apiserver::testing::TestServer;
use clap::Parser;
use proto::Reason;
use proto::k8s::PatchRequest;
use proto::resource::find_kind;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn ctx(server: &TestServer, dry_run: DryRun) -> Ctx {
    let mut ctx = Ctx::for_test(&server.url, None);
    ctx.global.dry_run = dry_run;
    ctx
}

fn manifest(image: &str, replicas: i32) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers:\n      - name: web\n        image: {image}\n      - name: side\n        image: side:1\n"
    )
}

fn doc(yaml: &str) -> Doc {
    Doc {
        source: "test.yaml".into(),
        object: proto::manifest::load_documents(yaml).unwrap().remove(0),
    }
}

async fn live(ctx: &Ctx) -> Option<Value> {
    match ctx
        .api()
        .await
        .unwrap()
        .get("deployments", "default", "web")
        .await
    {
        Ok(o) => Some(o.to_json()),
        Err(e) if reason_of(&e) == Some(Reason::NotFound) => None,
        Err(e) => panic!("{e}"),
    }
}

fn image(d: &Value, i: usize) -> &str {
    d["spec"]["template"]["spec"]["containers"][i]["image"]
        .as_str()
        .unwrap_or_default()
}

/// A directory for the test's files, named after it, removed when dropped.
fn scratch(test: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(test).tempdir().unwrap()
}

/// An executable shell script in `dir`.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn parse(argv: &[&str]) -> Command {
    let mut all = vec!["ctl"];
    all.extend_from_slice(argv);
    Cli::try_parse_from(all).unwrap().command
}

#[tokio::test]
async fn a_client_dry_run_create_asks_nothing_of_the_server() {
    let dir = scratch("a_client_dry_run_create_asks_nothing_of_the_server");
    let file = dir.path().join("web.yaml");
    std::fs::write(&file, manifest("nginx:1", 1)).unwrap();
    let files = FileArgs {
        files: vec![file.display().to_string()],
        recursive: false,
    };
    // Nothing listens there: a request would fail.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut nowhere = Ctx::for_test(&format!("http://127.0.0.1:{port}"), None);
    nowhere.global.dry_run = DryRun::Client;
    super::apply::create(&nowhere, &files).await.unwrap();

    let server = TestServer::start().await;
    super::apply::create(&ctx(&server, DryRun::Client), &files)
        .await
        .unwrap();
    assert!(live(&ctx(&server, DryRun::None)).await.is_none());
}

#[tokio::test]
async fn a_server_dry_run_validates_and_stores_nothing() {
    let server = TestServer::start().await;
    let dry = ctx(&server, DryRun::Server);
    let err = apply_doc(&dry, doc(&manifest("nginx:1", -1)))
        .await
        .err()
        .unwrap();
    assert_eq!(reason_of(&err), Some(Reason::Invalid), "{err}");
    let a = apply_doc(&dry, doc(&manifest("nginx:1", 1))).await.unwrap();
    assert_eq!(a.outcome, Outcome::Created);
    // The server's answer, defaults filled in.
    assert_eq!(
        a.object.to_json()["spec"]["strategy"]["type"],
        "RollingUpdate"
    );
    let real = ctx(&server, DryRun::None);
    assert!(live(&real).await.is_none());
}

#[tokio::test]
async fn dry_runs_of_every_mutation_leave_the_object_as_it_was() {
    let server = TestServer::start().await;
    let real = ctx(&server, DryRun::None);
    apply_doc(&real, doc(&manifest("nginx:1", 1)))
        .await
        .unwrap();
    let before = live(&real).await.unwrap();
    let kind = find_kind("deployment").unwrap();
    for mode in [DryRun::Server, DryRun::Client] {
        let dry = ctx(&server, mode);
        let a = apply_doc(&dry, doc(&manifest("nginx:2", 1))).await.unwrap();
        assert_eq!(a.outcome, Outcome::Configured);
        assert_eq!(
            image(&a.object.to_json(), 0),
            "nginx:2",
            "the would-be object"
        );

        let changes = Changes {
            set: [("env".to_string(), "prod".to_string())].into(),
            remove: vec![],
        };
        let (changed, o) =
            label_object(&dry, kind, "default", "web", &changes, Field::Labels, false)
                .await
                .unwrap();
        assert!(changed);
        assert_eq!(o.meta().labels.get("env").map(String::as_str), Some("prod"));

        let (o, changed) = patch_object(
            &dry,
            kind,
            "default",
            "web",
            "merge",
            &json!({"spec": {"replicas": 7}}),
            "",
        )
        .await
        .unwrap();
        assert!(changed);
        assert_eq!(o.to_json()["spec"]["replicas"], 7);

        let Command::Scale(s) = parse(&["scale", "deploy/web", "--replicas=4"]) else {
            panic!("not scale")
        };
        super::scale::scale(&dry, &s).await.unwrap();
        let Command::Set(s) = parse(&["set", "image", "deploy/web", "web=nginx:3"]) else {
            panic!("not set")
        };
        super::set::set(&dry, &s).await.unwrap();
        let Command::Delete(d) = parse(&["delete", "deploy", "web"]) else {
            panic!("not delete")
        };
        super::delete::delete(&dry, &d).await.unwrap();

        let after = live(&real).await.expect("still there");
        assert_eq!(after, before, "{mode:?}");
    }
}

#[tokio::test]
async fn patch_types_merge_lists_as_kubectl_does() {
    let server = TestServer::start().await;
    let real = ctx(&server, DryRun::None);
    apply_doc(&real, doc(&manifest("nginx:1", 1)))
        .await
        .unwrap();
    let kind = find_kind("deploy").unwrap();
    let containers = json!({"spec": {"template": {"spec": {"containers": [
        {"name": "web", "image": "nginx:2"}]}}}});
    // Strategic: containers merge by name; the sidecar stays.
    let (o, changed) = patch_object(&real, kind, "default", "web", "strategic", &containers, "")
        .await
        .unwrap();
    assert!(changed);
    let d = o.to_json();
    assert_eq!((image(&d, 0), image(&d, 1)), ("nginx:2", "side:1"));
    // The same again: no change.
    let (_, changed) = patch_object(&real, kind, "default", "web", "strategic", &containers, "")
        .await
        .unwrap();
    assert!(!changed, "patched (no change)");
    // JSON patch by position.
    let ops = json!([{"op": "replace", "path": "/spec/template/spec/containers/1/image",
                      "value": "side:2"}]);
    let (o, _) = patch_object(&real, kind, "default", "web", "json", &ops, "")
        .await
        .unwrap();
    assert_eq!(image(&o.to_json(), 1), "side:2");
    // Merge: the list is replaced whole.
    let (o, _) = patch_object(&real, kind, "default", "web", "merge", &containers, "")
        .await
        .unwrap();
    let d = o.to_json();
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    // A YAML patch through the command, on the scale subresource.
    let Command::Patch(p) = parse(&[
        "patch",
        "deploy/web",
        "--subresource=scale",
        "--type=merge",
        "-p",
        "spec:\n  replicas: 3\n",
    ]) else {
        panic!("not patch")
    };
    super::patch::patch(&real, &p).await.unwrap();
    assert_eq!(live(&real).await.unwrap()["spec"]["replicas"], 3);
    // What the server refuses is reported.
    let err = patch_object(
        &real,
        kind,
        "default",
        "web",
        "merge",
        &json!({"spec": {"replicas": -1}}),
        "",
    )
    .await
    .err()
    .unwrap();
    assert_eq!(reason_of(&err), Some(Reason::Invalid));
}

fn edit_args() -> EditArgs {
    EditArgs {
        args: vec!["deployment/web".into()],
        files: vec![],
        recursive: false,
        output_patch: true,
    }
}

/// An editor whose n-th run does the n-th of `steps` to the file (a sed script, or `-`
/// for nothing), keeping what it was handed as `seen-N` and the file's path as `path-N`.
fn counting_editor(dir: &Path, steps: &[&str]) -> (Vec<String>, bool) {
    let mut cases = String::new();
    for (i, s) in steps.iter().enumerate() {
        if *s != "-" {
            cases.push_str(&format!("{}) {s} ;;\n", i + 1));
        }
    }
    let d = dir.display();
    let body = format!(
        "n=$(cat {d}/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > {d}/n\ncp \"$1\" {d}/seen-$n\necho \"$1\" > {d}/path-$n\ncase $n in\n{cases}esac\n"
    );
    let path = script(dir, "editor.sh", &body);
    (vec![path.display().to_string()], false)
}

fn runs(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("n"))
        .map(|s| s.trim().parse().unwrap_or(0))
        .unwrap_or(0)
}

#[tokio::test]
async fn edit_sends_the_change_or_nothing_when_the_file_is_unchanged() {
    let server = TestServer::start().await;
    let real = ctx(&server, DryRun::None);
    apply_doc(&real, doc(&manifest("nginx:1", 1)))
        .await
        .unwrap();
    let dir = scratch("edit_sends_the_change_or_nothing_when_the_file_is_unchanged");

    let unchanged = counting_editor(dir.path(), &["-"]);
    let before = live(&real).await.unwrap();
    edit_with(&real, &edit_args(), unchanged).await.unwrap();
    assert_eq!(live(&real).await.unwrap(), before);
    let seen = std::fs::read_to_string(dir.path().join("seen-1")).unwrap();
    assert!(
        seen.starts_with(
            "# Please edit the object below. Lines beginning with a '#' will be ignored,\n"
        ),
        "{seen}"
    );
    assert!(!seen.contains("managedFields"), "{seen}");
    assert!(seen.contains("image: nginx:1"), "{seen}");
    let path = std::fs::read_to_string(dir.path().join("path-1")).unwrap();
    assert!(!Path::new(path.trim()).exists(), "the file is removed");

    std::fs::remove_file(dir.path().join("n")).unwrap();
    let editor = counting_editor(
        dir.path(),
        &["sed -i 's/image: nginx:1/image: nginx:2/' \"$1\""],
    );
    edit_with(&real, &edit_args(), editor).await.unwrap();
    let after = live(&real).await.unwrap();
    assert_eq!((image(&after, 0), image(&after, 1)), ("nginx:2", "side:1"));
    assert_eq!(runs(dir.path()), 1);
}

#[tokio::test]
async fn a_refused_edit_reopens_with_the_reason_until_fixed_or_given_up() {
    let server = TestServer::start().await;
    let real = ctx(&server, DryRun::None);
    apply_doc(&real, doc(&manifest("nginx:1", 1)))
        .await
        .unwrap();
    let dir = scratch("a_refused_edit_reopens_with_the_reason_until_fixed_or_given_up");

    let fixing = counting_editor(
        dir.path(),
        &[
            "sed -i 's/replicas: 1$/replicas: -1/' \"$1\"",
            "sed -i 's/replicas: -1$/replicas: 2/' \"$1\"",
        ],
    );
    edit_with(&real, &edit_args(), fixing).await.unwrap();
    assert_eq!(runs(dir.path()), 2);
    let second = std::fs::read_to_string(dir.path().join("seen-2")).unwrap();
    assert!(
        second.contains("#\n# deployments.apps \"web\" was not valid:\n# * "),
        "{second}"
    );
    assert!(
        second.contains("replicas: -1"),
        "the user's edit is kept: {second}"
    );
    assert_eq!(live(&real).await.unwrap()["spec"]["replicas"], 2);

    // Saved unchanged after the error: given up, the file kept.
    std::fs::remove_file(dir.path().join("n")).unwrap();
    let giving_up = counting_editor(
        dir.path(),
        &["sed -i 's/replicas: 2$/replicas: -5/' \"$1\"", "-"],
    );
    let err = edit_with(&real, &edit_args(), giving_up)
        .await
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "Edit cancelled, no valid changes were saved."
    );
    let kept = std::fs::read_to_string(dir.path().join("path-2")).unwrap();
    let kept = Path::new(kept.trim());
    assert!(
        std::fs::read_to_string(kept)
            .unwrap()
            .contains("replicas: -5")
    );
    std::fs::remove_file(kept).unwrap();
    assert_eq!(live(&real).await.unwrap()["spec"]["replicas"], 2);
}

#[tokio::test]
async fn an_edit_racing_another_change_is_rebased_not_overwriting_it() {
    let server = TestServer::start().await;
    let real = ctx(&server, DryRun::None);
    apply_doc(&real, doc(&manifest("nginx:1", 1)))
        .await
        .unwrap();
    let dir = scratch("an_edit_racing_another_change_is_rebased_not_overwriting_it");
    let d = dir.path().display().to_string();
    let editor = counting_editor(
        dir.path(),
        &[
            &format!(
                "touch {d}/editing; while [ ! -f {d}/done ]; do sleep 0.05; done; sed -i 's/image: nginx:1/image: nginx:2/' \"$1\""
            ),
            "-",
        ],
    );
    let meanwhile = async {
        while !dir.path().join("editing").exists() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let req = PatchRequest {
            resource: "deployments".into(),
            namespace: "default".into(),
            name: "web".into(),
            patch_type: "merge".into(),
            patch: json!({"metadata": {"labels": {"by": "someone-else"}}}).to_string(),
            ..Default::default()
        };
        real.api().await.unwrap().patch(req).await.unwrap();
        std::fs::write(dir.path().join("done"), "").unwrap();
    };
    let args = edit_args();
    let (res, ()) = tokio::join!(edit_with(&real, &args, editor), meanwhile);
    res.unwrap();
    assert_eq!(runs(dir.path()), 2);
    let second = std::fs::read_to_string(dir.path().join("seen-2")).unwrap();
    assert!(
        second.contains("was changed on the server while you edited it"),
        "{second}"
    );
    let after = live(&real).await.unwrap();
    assert_eq!(after["metadata"]["labels"]["by"], "someone-else");
    assert_eq!(image(&after, 0), "nginx:2");
}

fn diff_args(file: &Path) -> DiffArgs {
    DiffArgs {
        files: vec![file.display().to_string()],
        recursive: false,
        show_managed_fields: false,
        show_secrets: false,
    }
}

#[tokio::test]
async fn diff_compares_live_with_a_server_dry_run_of_the_apply() {
    let server = TestServer::start().await;
    let real = ctx(&server, DryRun::None);
    let dir = scratch("diff_compares_live_with_a_server_dry_run_of_the_apply");
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let file = dir.path().join("web.yaml");
    // Keeps what it was given, and answers as diff does.
    let program = script(
        dir.path(),
        "diff.sh",
        &format!(
            "rm -rf {o}/*; cp -r \"$1\" \"$2\" {o}/; exec diff -u -N \"$1\" \"$2\" >/dev/null",
            o = out.display()
        ),
    );
    let program = vec![program.display().to_string()];
    let shown = |prefix: &str| -> (String, String) {
        let d = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
            .unwrap();
        let f = d.join("apps.v1.Deployment.default.web");
        (
            d.file_name().unwrap().to_string_lossy().into_owned(),
            std::fs::read_to_string(f).unwrap(),
        )
    };

    // Absent: everything is new.
    std::fs::write(&file, manifest("nginx:1", 1)).unwrap();
    assert!(diff_with(&real, &diff_args(&file), &program).await.unwrap());
    let (name, text) = shown("LIVE-");
    assert!(
        name.starts_with("LIVE-") && text.is_empty(),
        "{name}: {text}"
    );
    let (_, merged) = shown("MERGED-");
    assert!(merged.contains("image: nginx:1"), "{merged}");
    assert!(!merged.contains("managedFields"), "{merged}");
    assert!(live(&real).await.is_none(), "diff creates nothing");

    // Applied: no differences.
    apply_doc(&real, doc(&manifest("nginx:1", 1)))
        .await
        .unwrap();
    assert!(!diff_with(&real, &diff_args(&file), &program).await.unwrap());

    // Changed: the difference, and still nothing written.
    std::fs::write(&file, manifest("nginx:2", 1)).unwrap();
    assert!(diff_with(&real, &diff_args(&file), &program).await.unwrap());
    let (_, from) = shown("LIVE-");
    let (_, to) = shown("MERGED-");
    assert!(
        from.contains("image: nginx:1") && to.contains("image: nginx:2"),
        "{to}"
    );
    // As kubectl's: the merged object keeps the last-applied annotation as it is.
    let annotation = |t: &str| {
        t.lines()
            .find(|l| l.contains(crate::merge::LAST_APPLIED))
            .map(String::from)
    };
    assert!(annotation(&from).is_some());
    assert_eq!(annotation(&from), annotation(&to));
    assert_eq!(image(&live(&real).await.unwrap(), 0), "nginx:1");

    // A failing program, a refused object: errors (exit 2), not differences.
    let broken = vec![
        script(dir.path(), "broken.sh", "exit 3")
            .display()
            .to_string(),
    ];
    let err = diff_with(&real, &diff_args(&file), &broken)
        .await
        .err()
        .unwrap();
    assert!(err.to_string().ends_with("exit status 3"), "{err}");
    std::fs::write(&file, manifest("nginx:2", -1)).unwrap();
    let err = diff_with(&real, &diff_args(&file), &program)
        .await
        .err()
        .unwrap();
    assert_eq!(reason_of(&err), Some(Reason::Invalid), "{err}");
}
