//! Every public manifest of the shared corpus (`shared/k8s-corpus`: Kubernetes' examples
//! and website, Istio, Google's and Microsoft's demo apps, sock-shop, ...) applied file by
//! file with the real `ctl apply -f` to the real apiserver, in the corpus' sorted order, as
//! a user with those files would. Each document must come out as Kubernetes decides:
//! accepted, or refused for the reason Kubernetes gives ([`REFUSED`]). The table is the
//! whole list of refusals: any other refusal, or a listed one that does not happen, fails.
//!
//! Also: what the manifests ask for is what is stored (a cinder volume, YAML 1.1 octal
//! modes, KYAML), and `metadata.generateName` works where Kubernetes allows it (create,
//! HTTP POST) and is refused where it refuses it (apply).

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use integration_tests::{Process, ctl, free_addr, spawn_apiserver, text, wait_ready};
use proto::manifest::load_each_document;
use serde_json::{Value, json};

/// A document Kubernetes refuses: its file, kind and name, and what the refusal says.
struct Refused {
    file: &'static str,
    kind: &'static str,
    name: &'static str,
    says: &'static [&'static str],
}

/// Every document of the corpus that Kubernetes refuses, in corpus order. The guestbook's
/// `frontend` and `redis-master` Deployments come after other files' Deployments of the
/// same names with other selectors: applying them is an update, and a Deployment's
/// selector is immutable.
const REFUSED: &[Refused] = &[
    Refused {
        file: "k8s-dashboard__hack_test-resources_nginx-daemon-daemon-set.yaml",
        kind: "DaemonSet",
        name: "nginx-daemon",
        says: &["spec.selector: Required value"],
    },
    Refused {
        file: "k8s-examples__web_guestbook_all-in-one_guestbook-all-in-one.yaml",
        kind: "Deployment",
        name: "redis-master",
        says: &["spec.selector: Invalid value", "field is immutable"],
    },
    Refused {
        file: "k8s-examples__web_guestbook_all-in-one_guestbook-all-in-one.yaml",
        kind: "Deployment",
        name: "frontend",
        says: &["spec.selector: Invalid value", "field is immutable"],
    },
    Refused {
        file: "k8s-examples__web_guestbook_frontend-deployment.yaml",
        kind: "Deployment",
        name: "frontend",
        says: &["spec.selector: Invalid value", "field is immutable"],
    },
    Refused {
        file: "k8s-examples__web_guestbook_redis-master-deployment.yaml",
        kind: "Deployment",
        name: "redis-master",
        says: &["spec.selector: Invalid value", "field is immutable"],
    },
];

/// Kinds of the `unsupported-*` files that this project does not serve (Kubernetes serves
/// them; the sample controller's `Foo` needs its CRD), and autoscaling/v1 until it is
/// served: refused as kubectl refuses a kind or version the server does not know.
const NOT_SERVED: &str = "no matches for kind";

fn corpus_dir() -> PathBuf {
    match std::env::var_os("K8S_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/k8s-corpus"),
    }
}

/// One document as the corpus has it: kind, name, namespace (as written) and, when the
/// project's reader loads it, nothing more is needed; `loads` says whether it does.
struct Document {
    kind: String,
    name: String,
    namespace: String,
    value: Value,
    loads: bool,
}

fn documents(text: &str, file: &str) -> Vec<Document> {
    let docs = load_each_document(text).unwrap_or_else(|e| panic!("{file}: {e}"));
    docs.into_iter()
        .map(|d| Document {
            kind: d.value["kind"].as_str().unwrap_or_default().to_string(),
            name: d.value["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            namespace: d.value["metadata"]["namespace"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            loads: d.objects.is_ok(),
            value: d.value,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_public_manifest_is_accepted_or_refused_as_kubernetes_does() {
    let started = Instant::now();
    let dir = corpus_dir();
    if !dir.join("SOURCES.md").exists() {
        testkit::unmet(
            "corpus",
            &format!("the manifest corpus at {} (K8S_CORPUS)", dir.display()),
        );
        return;
    }
    let tmp = tempfile::Builder::new()
        .prefix("it-corpus-")
        .tempdir()
        .expect("temp dir");
    let addr = free_addr();
    let url = format!("http://{addr}");
    let mut server: Process = spawn_apiserver(
        &tmp.path().join("data"),
        addr,
        tmp.path().join("apiserver.log"),
    );
    let client = wait_ready(&url, &mut server, Duration::from_secs(30)).await;

    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let corpus: Vec<(String, String, Vec<Document>)> = files
        .iter()
        .map(|p| {
            let file = p.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(p).expect("corpus file");
            let docs = documents(&text, &file);
            (file, text, docs)
        })
        .collect();
    let supported: usize = corpus
        .iter()
        .filter(|(f, _, _)| !f.starts_with("unsupported-"))
        .map(|(_, _, d)| d.len())
        .sum();
    assert_eq!(supported, 245, "the corpus' documents of supported kinds");

    // autoscaling/v1 HorizontalPodAutoscalers: accepted once the project serves that
    // version; until then refused as kubectl refuses a version the server lacks.
    let hpa_v1_served = corpus.iter().flat_map(|(_, _, d)| d).any(|d| {
        d.value["apiVersion"] == "autoscaling/v1" && d.kind == "HorizontalPodAutoscaler" && d.loads
    });

    // Namespaces first: those the corpus uses but no file creates, then the corpus' own
    // Namespace documents (applied again with their files, they are `unchanged`).
    let created: BTreeSet<&str> = corpus
        .iter()
        .flat_map(|(_, _, d)| d)
        .filter(|d| d.kind == "Namespace")
        .map(|d| d.name.as_str())
        .collect();
    let used: BTreeSet<&str> = corpus
        .iter()
        .flat_map(|(_, _, d)| d)
        .map(|d| d.namespace.as_str())
        .filter(|ns| !ns.is_empty() && *ns != "default" && !created.contains(ns))
        .collect();
    for ns in used {
        let doc = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
        let out = ctl(&url, &["apply", "-f", "-"], Some(&doc.to_string()));
        assert!(
            out.status.success(),
            "namespace {ns}: {}",
            text(&out.stderr)
        );
    }
    for d in corpus
        .iter()
        .flat_map(|(_, _, d)| d)
        .filter(|d| d.kind == "Namespace")
    {
        let out = ctl(&url, &["apply", "-f", "-"], Some(&d.value.to_string()));
        assert!(
            out.status.success(),
            "namespace {}: {}",
            d.name,
            text(&out.stderr)
        );
    }

    let mut failures = Vec::new();
    let mut refused_docs = Vec::new();
    let mut accepted = 0;
    for (file, _, docs) in &corpus {
        let path = dir.join(file);
        let out = ctl(&url, &["apply", "-f", &path.to_string_lossy()], None);
        let stdout = text(&out.stdout);
        let stderr = text(&out.stderr);
        let errors: Vec<&str> = stderr
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("Warning:"))
            .collect();
        let lines: Vec<&str> = stdout.lines().filter(|l| !l.trim().is_empty()).collect();

        // What each document should come to.
        let mut want_accepted = Vec::new();
        let mut want_refused: Vec<(String, Vec<&str>)> = Vec::new();
        for d in docs {
            let listed = REFUSED
                .iter()
                .find(|r| r.file == file && r.kind == d.kind && r.name == d.name);
            let hpa_v1 = d.value["apiVersion"] == "autoscaling/v1";
            if let Some(r) = listed {
                want_refused.push((d.name.clone(), r.says.to_vec()));
            } else if (hpa_v1 && !hpa_v1_served) || (file.starts_with("unsupported-") && !d.loads) {
                want_refused.push((d.name.clone(), vec![NOT_SERVED]));
            } else {
                want_accepted.push(d.name.clone());
            }
        }
        refused_docs.extend(want_refused.iter().map(|(n, _)| format!("{file}: {n}")));
        accepted += want_accepted.len();

        let named = |line: &str, name: &str| line.contains(&format!("/{name} "));
        let accepted_ok = lines.len() == want_accepted.len()
            && lines.iter().zip(&want_accepted).all(|(l, n)| {
                named(l, n)
                    && (l.ends_with(" created")
                        || l.ends_with(" configured")
                        || l.ends_with(" unchanged"))
            });
        let refused_ok = errors.len() == want_refused.len()
            && errors.iter().zip(&want_refused).all(|(l, (name, says))| {
                l.contains(&format!("{name:?}")) && says.iter().all(|s| l.contains(s))
            });
        let exit_ok = out.status.success() == want_refused.is_empty();
        if !(accepted_ok && refused_ok && exit_ok) {
            failures.push(format!(
                "{file}:\n  want accepted {want_accepted:?}\n  want refused {want_refused:?}\n  stdout:\n{}\n  stderr:\n{}",
                indent(&stdout),
                indent(&stderr)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} files did not come out as Kubernetes decides:\n{}",
        failures.len(),
        corpus.len(),
        failures.join("\n")
    );
    for r in REFUSED {
        let key = format!("{}: {}", r.file, r.name);
        assert!(
            refused_docs.contains(&key),
            "{key} is listed but no such document"
        );
    }
    eprintln!(
        "corpus: {} files, {accepted} documents accepted, {} refused (autoscaling/v1 served: {hpa_v1_served}):\n  {}",
        corpus.len(),
        refused_docs.len(),
        refused_docs.join("\n  ")
    );

    // What the manifests asked for is what is stored.
    let mysql = client
        .get("pods", "default", "mysql")
        .await
        .expect("the cinder example's pod")
        .to_json();
    let volumes = mysql["spec"]["volumes"].as_array().expect("volumes");
    assert_eq!(
        volumes[0]["cinder"],
        json!({"volumeID": "bd82f7e2-wece-4c01-a505-4acf60b07f4a", "fsType": "ext4"})
    );
    let redis = client
        .get("statefulsets", "default", "redis")
        .await
        .expect("the redis cluster of gke-samples")
        .to_json();
    let modes: Vec<&Value> = redis["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .filter_map(|v| v["configMap"].get("defaultMode"))
        .collect();
    assert_eq!(modes, [&json!(493), &json!(365)], "0755 and 0555");
    let secret = client
        .get("secrets", "default", "secret-basic-auth")
        .await
        .expect("the KYAML secret")
        .to_json();
    assert_eq!(secret["type"], "kubernetes.io/basic-auth");

    generate_name(&url, addr).await;
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}

/// generateName: `create` and HTTP POST name the object from the prefix, `apply` refuses
/// it with kubectl's words.
async fn generate_name(url: &str, addr: std::net::SocketAddr) {
    let doc =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: corpus-gen-\ndata:\n  a: b\n";
    let mut names = BTreeSet::new();
    for _ in 0..2 {
        let out = ctl(url, &["create", "-f", "-"], Some(doc));
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "create: {}", text(&out.stderr));
        let name = stdout
            .trim()
            .strip_prefix("configmap/")
            .and_then(|s| s.strip_suffix(" created"))
            .unwrap_or_else(|| panic!("create printed {stdout:?}"))
            .to_string();
        assert!(name.starts_with("corpus-gen-") && name.len() == "corpus-gen-".len() + 5);
        names.insert(name);
    }
    assert_eq!(names.len(), 2, "two creates, two names: {names:?}");

    let out = ctl(url, &["apply", "-f", "-"], Some(doc));
    assert!(!out.status.success());
    assert_eq!(
        text(&out.stderr).trim(),
        "error: from corpus-gen-: cannot use generate name with apply"
    );

    // HTTP POST with a YAML body, as `curl --data-binary @file` sends one.
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let request = format!(
        "POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/yaml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{doc}",
        doc.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    assert!(response.contains("\"name\":\"corpus-gen-"), "{response}");
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
