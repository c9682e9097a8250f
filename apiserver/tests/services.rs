//! Service ClusterIP and NodePort allocation through real gRPC: unique values under
//! concurrency, requested values honoured or refused in Kubernetes' words, release on
//! deletion and type changes, persistence across restarts, and a full range.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use apiserver::testing::TestServer;
use proto::k8s::api_client::ApiClient;
use proto::k8s::*;
use proto::{ApiError, Reason};
use tonic::transport::Channel;

async fn connect(server: &TestServer) -> ApiClient<Channel> {
    ApiClient::connect(server.url.clone())
        .await
        .expect("connect to the test server")
}

fn service(name: &str, ty: &str, cluster_ip: &str, node_ports: &[i32]) -> Object {
    let ports: Vec<_> = node_ports
        .iter()
        .enumerate()
        .map(|(i, n)| serde_json::json!({"name": format!("p{i}"), "port": 80 + i, "nodePort": n}))
        .collect();
    let json = serde_json::json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"type": ty, "clusterIP": cluster_ip, "selector": {"app": name}, "ports": ports}
    });
    Object::from_json_as(&proto::resource::info::Service, json).expect("valid service")
}

fn spec(o: &Object) -> ServiceSpec {
    match &o.kind {
        Some(object::Kind::Service(s)) => s.spec.clone().expect("a spec"),
        other => panic!("not a service: {other:?}"),
    }
}

fn ip_of(o: &Object) -> Ipv4Addr {
    spec(o).cluster_ip.parse().expect("an IPv4 clusterIP")
}

fn node_ports(o: &Object) -> Vec<i32> {
    spec(o).ports.iter().map(|p| p.node_port).collect()
}

async fn create(c: &mut ApiClient<Channel>, o: Object, dry_run: bool) -> Result<Object, ApiError> {
    c.create(CreateRequest {
        object: Some(o),
        dry_run,
        ..Default::default()
    })
    .await
    .map(|r| r.into_inner())
    .map_err(|s| ApiError::from_status(&s))
}

async fn update(c: &mut ApiClient<Channel>, o: Object) -> Result<Object, ApiError> {
    c.update(UpdateRequest {
        object: Some(o),
        subresource: String::new(),
        dry_run: false,
        ..Default::default()
    })
    .await
    .map(|r| r.into_inner())
    .map_err(|s| ApiError::from_status(&s))
}

async fn delete(c: &mut ApiClient<Channel>, name: &str) -> Result<Object, ApiError> {
    c.delete(DeleteRequest {
        resource: "services".into(),
        namespace: "default".into(),
        name: name.into(),
        ..Default::default()
    })
    .await
    .map(|r| r.into_inner())
    .map_err(|s| ApiError::from_status(&s))
}

fn in_default_range(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    o[0] == 10 && (96..112).contains(&o[1])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_never_share_a_cluster_ip() {
    let s = TestServer::start().await;
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..8 {
        let mut c = connect(&s).await;
        tasks.spawn(async move {
            let mut ips = Vec::new();
            for i in (t..50).step_by(8) {
                let o = create(
                    &mut c,
                    service(&format!("s{i}"), "ClusterIP", "", &[0]),
                    false,
                )
                .await
                .expect("create");
                let sp = spec(&o);
                assert_eq!(sp.cluster_ips, vec![sp.cluster_ip.clone()]);
                assert_eq!(sp.ip_families, vec!["IPv4".to_string()]);
                assert_eq!(sp.ip_family_policy.as_deref(), Some("SingleStack"));
                ips.push(ip_of(&o));
            }
            ips
        });
    }
    let mut all = Vec::new();
    while let Some(r) = tasks.join_next().await {
        all.extend(r.expect("task"));
    }
    assert_eq!(all.len(), 50);
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(unique.len(), 50, "an IP was handed out twice: {all:?}");
    for ip in all {
        assert!(in_default_range(ip), "{ip} outside 10.96.0.0/12");
        assert!(ip != Ipv4Addr::new(10, 96, 0, 0) && ip != Ipv4Addr::new(10, 96, 0, 1));
    }
}

#[tokio::test]
async fn requested_ips_are_honoured_once_and_must_be_in_range() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    let a = create(&mut c, service("a", "ClusterIP", "10.96.0.10", &[0]), false)
        .await
        .expect("a free requested IP");
    assert_eq!(ip_of(&a), Ipv4Addr::new(10, 96, 0, 10));

    let taken = create(&mut c, service("b", "ClusterIP", "10.96.0.10", &[0]), false)
        .await
        .expect_err("taken");
    assert_eq!(taken.reason, Reason::Invalid);
    assert_eq!(
        taken.message,
        r#"Service "b" is invalid: spec.clusterIPs: Invalid value: ["10.96.0.10"]: failed to allocate IP 10.96.0.10: provided IP is already allocated"#
    );

    let outside = create(&mut c, service("b", "ClusterIP", "10.0.0.1", &[0]), false)
        .await
        .expect_err("outside the range");
    assert_eq!(outside.reason, Reason::Invalid);
    assert_eq!(
        outside.message,
        r#"Service "b" is invalid: spec.clusterIPs: Invalid value: ["10.0.0.1"]: failed to allocate IP 10.0.0.1: the provided IP (10.0.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12"#
    );

    let headless = create(&mut c, service("h", "ClusterIP", "None", &[0]), false)
        .await
        .expect("headless");
    assert_eq!(spec(&headless).cluster_ip, "None");
    assert_eq!(spec(&headless).cluster_ips, vec!["None".to_string()]);

    // A failed create reserved nothing: "b" may now have a free IP of its own.
    let b = create(&mut c, service("b", "ClusterIP", "", &[0]), false)
        .await
        .expect("b");
    assert_ne!(ip_of(&b), ip_of(&a));
}

#[tokio::test]
async fn node_ports_are_distinct_in_range_and_a_taken_one_is_refused() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    let mut seen = HashSet::new();
    for i in 0..10 {
        let o = create(
            &mut c,
            service(&format!("np{i}"), "NodePort", "", &[0, 0]),
            false,
        )
        .await
        .expect("create");
        for p in node_ports(&o) {
            assert!((30000..=32767).contains(&p), "{p}");
            assert!(seen.insert(p), "nodePort {p} handed out twice");
        }
        assert!(in_default_range(ip_of(&o)));
    }
    let lb = create(&mut c, service("lb", "LoadBalancer", "", &[0]), false)
        .await
        .expect("load balancer");
    assert!(seen.insert(node_ports(&lb)[0]));

    let want = create(&mut c, service("want", "NodePort", "", &[30080]), false)
        .await
        .expect("a free requested port");
    assert_eq!(node_ports(&want), vec![30080]);
    let taken = create(&mut c, service("again", "NodePort", "", &[30080]), false)
        .await
        .expect_err("taken");
    assert_eq!(taken.reason, Reason::Invalid);
    assert_eq!(
        taken.message,
        r#"Service "again" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated"#
    );
}

#[tokio::test]
async fn deleting_a_service_frees_its_ip_and_ports() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    let a = create(&mut c, service("a", "NodePort", "", &[0, 0]), false)
        .await
        .expect("a");
    let (ip, ports) = (spec(&a).cluster_ip, node_ports(&a));
    delete(&mut c, "a").await.expect("delete");
    let b = create(&mut c, service("b", "NodePort", &ip, &ports), false)
        .await
        .expect("the freed IP and ports may be requested again");
    assert_eq!((spec(&b).cluster_ip, node_ports(&b)), (ip, ports));
}

#[tokio::test]
async fn deletion_held_by_a_finalizer_frees_values_when_it_completes() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    let mut o = service("held", "NodePort", "", &[0]);
    o.meta_mut().finalizers.push("example.com/hold".into());
    let held = create(&mut c, o, false).await.expect("create");
    let (ip, ports) = (spec(&held).cluster_ip, node_ports(&held));
    let marked = delete(&mut c, "held").await.expect("marked for deletion");
    assert!(!marked.meta().deletion_timestamp.is_empty());
    let refused = create(&mut c, service("next", "NodePort", &ip, &ports), false)
        .await
        .expect_err("still held while the finalizer waits");
    assert_eq!(refused.reason, Reason::Invalid);
    let mut done = marked.clone();
    done.meta_mut().finalizers.clear();
    update(&mut c, done).await.expect("remove the finalizer");
    create(&mut c, service("next", "NodePort", &ip, &ports), false)
        .await
        .expect("freed once the deletion completed");
}

#[tokio::test]
async fn updates_keep_omitted_values_and_release_ports_when_the_type_changes() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    let a = create(&mut c, service("a", "NodePort", "", &[0]), false)
        .await
        .expect("a");
    let (ip, port) = (spec(&a).cluster_ip, node_ports(&a)[0]);

    // A replace that omits clusterIP and nodePort keeps them, as Kubernetes does.
    let same = update(&mut c, service("a", "NodePort", "", &[0]))
        .await
        .expect("replace without allocated values");
    assert_eq!(
        (spec(&same).cluster_ip, node_ports(&same)),
        (ip.clone(), vec![port])
    );

    // NodePort -> ClusterIP drops the nodePort and frees it.
    let mut to_cluster = same.clone();
    if let Some(object::Kind::Service(svc)) = &mut to_cluster.kind {
        svc.spec.as_mut().expect("spec").r#type = "ClusterIP".into();
    }
    let cluster = update(&mut c, to_cluster).await.expect("to ClusterIP");
    assert_eq!(node_ports(&cluster), vec![0]);
    assert_eq!(spec(&cluster).cluster_ip, ip, "the clusterIP stays");
    create(&mut c, service("b", "NodePort", "", &[port]), false)
        .await
        .expect("the released nodePort is free again");

    // ExternalName -> ClusterIP gets an IP.
    let ext = Object::from_json_as(
        &proto::resource::info::Service,
        serde_json::json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "ext", "namespace": "default"},
            "spec": {"type": "ExternalName", "externalName": "example.com"}
        }),
    )
    .expect("valid");
    let ext = create(&mut c, ext, false).await.expect("ExternalName");
    assert_eq!(spec(&ext).cluster_ip, "");
    let now_cluster = update(&mut c, service("ext", "ClusterIP", "", &[0]))
        .await
        .expect("to ClusterIP");
    assert!(in_default_range(ip_of(&now_cluster)));
}

#[tokio::test]
async fn dry_run_creates_reserve_nothing() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    let dry = create(
        &mut c,
        service("a", "NodePort", "10.96.0.50", &[30050]),
        true,
    )
    .await
    .expect("dry run");
    assert_eq!(spec(&dry).cluster_ip, "10.96.0.50");
    let dry_alloc = create(&mut c, service("x", "NodePort", "", &[0]), true)
        .await
        .expect("dry run allocates for show");
    assert!(in_default_range(ip_of(&dry_alloc)) && node_ports(&dry_alloc)[0] >= 30000);
    create(
        &mut c,
        service("b", "NodePort", "10.96.0.50", &[30050]),
        false,
    )
    .await
    .expect("nothing was reserved by the dry runs");
    let refused = create(&mut c, service("c", "NodePort", "10.96.0.50", &[0]), true)
        .await
        .expect_err("a dry run refuses a taken IP as the real create would");
    assert_eq!(refused.reason, Reason::Invalid);
}

#[tokio::test]
async fn allocations_survive_a_restart() {
    let mut s = TestServer::start().await;
    let mut c = connect(&s).await;
    let a = create(&mut c, service("a", "NodePort", "", &[0]), false)
        .await
        .expect("a");
    s.restart().await;
    let mut c = connect(&s).await;
    let err = create(
        &mut c,
        service("b", "ClusterIP", &spec(&a).cluster_ip, &[0]),
        false,
    )
    .await
    .expect_err("still allocated after a restart");
    assert_eq!(err.reason, Reason::Invalid);
    let err = create(&mut c, service("b", "NodePort", "", &node_ports(&a)), false)
        .await
        .expect_err("still allocated after a restart");
    assert!(
        err.message.contains("provided port is already allocated"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn a_tiny_range_fills_up_with_a_clear_error() {
    let s = TestServer::start_with(|c| {
        c.service_cidr = "10.0.0.0/29".into();
        c.node_port_range = "30000-30001".into();
    })
    .await;
    let mut c = connect(&s).await;
    // 8 addresses: network, broadcast and the first (the `kubernetes` Service's) are out.
    let mut ips = HashSet::new();
    for i in 0..5 {
        let o = create(
            &mut c,
            service(&format!("s{i}"), "ClusterIP", "", &[0]),
            false,
        )
        .await
        .expect("room left");
        ips.insert(ip_of(&o));
    }
    let want: HashSet<_> = (2..=6).map(|i| Ipv4Addr::new(10, 0, 0, i)).collect();
    assert_eq!(ips, want);
    let full = create(&mut c, service("s5", "ClusterIP", "", &[0]), false)
        .await
        .expect_err("full");
    assert_eq!(full.reason, Reason::Internal);
    assert_eq!(
        full.message,
        "Internal error occurred: failed to allocate a serviceIP: range is full"
    );
    // The first address may still be asked for by name, as the `kubernetes` Service does.
    create(
        &mut c,
        service("kubernetes", "ClusterIP", "10.0.0.1", &[0]),
        false,
    )
    .await
    .expect("the reserved first address on request");

    delete(&mut c, "s0").await.expect("delete");
    delete(&mut c, "s1").await.expect("delete");
    create(&mut c, service("np0", "NodePort", "", &[0, 0]), false)
        .await
        .expect("two ports fit");
    let full = create(&mut c, service("np1", "NodePort", "", &[0]), false)
        .await
        .expect_err("no port left");
    assert_eq!(full.reason, Reason::Internal);
    assert_eq!(
        full.message,
        "Internal error occurred: failed to allocate a nodePort: range is full"
    );
    // Nothing of the failed create stays reserved: its IP goes to the next one.
    let cluster_only = create(&mut c, service("last", "ClusterIP", "", &[0]), false)
        .await
        .expect("the IP the failed NodePort create took was given back");
    assert!(want.contains(&ip_of(&cluster_only)));
}

#[tokio::test]
async fn bad_flags_stop_the_server_naming_the_flag() {
    let dir = tempfile::tempdir().expect("tempdir");
    let listen = "127.0.0.1:0".parse().expect("addr");
    let mut config = apiserver::Config::for_dir(dir.path().join("d"), listen);
    config.service_cidr = "10.96.0.0/33".into();
    let Err(e) = apiserver::start(config).await else {
        panic!("a bad --service-cidr must not start");
    };
    assert_eq!(
        e.to_string(),
        r#"--service-cidr: invalid CIDR "10.96.0.0/33": prefix length 33 is over 32"#
    );
    let mut config = apiserver::Config::for_dir(dir.path().join("d"), listen);
    config.node_port_range = "32767-30000".into();
    let Err(e) = apiserver::start(config).await else {
        panic!("a bad --node-port-range must not start");
    };
    assert!(e.to_string().starts_with("--node-port-range: "), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_concurrent_requests_for_one_ip_and_port_exactly_one_wins() {
    let s = TestServer::start().await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let mut c = connect(&s).await;
        tasks.spawn(async move {
            let ip = create(
                &mut c,
                service(&format!("ip{i}"), "ClusterIP", "10.96.1.1", &[0]),
                false,
            )
            .await
            .is_ok();
            let port = create(
                &mut c,
                service(&format!("np{i}"), "NodePort", "", &[30100]),
                false,
            )
            .await
            .is_ok();
            (ip, port)
        });
    }
    let (mut ips, mut ports) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        let (ip, port) = r.expect("task");
        ips += usize::from(ip);
        ports += usize::from(port);
    }
    assert_eq!((ips, ports), (1, 1));
}

#[tokio::test]
async fn becoming_an_external_name_gives_the_ip_up() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    let a = create(&mut c, service("a", "ClusterIP", "", &[0]), false)
        .await
        .expect("a");
    let ip = spec(&a).cluster_ip;
    let mut ext = a.clone();
    if let Some(proto::k8s::object::Kind::Service(svc)) = &mut ext.kind {
        let sp = svc.spec.as_mut().unwrap();
        sp.r#type = "ExternalName".into();
        sp.external_name = "db.example.com".into();
        sp.cluster_ip.clear();
        sp.cluster_ips.clear();
        sp.selector.clear();
    }
    let ext = update(&mut c, ext)
        .await
        .expect("ClusterIP -> ExternalName is allowed");
    assert_eq!(spec(&ext).cluster_ip, "");
    let b = create(&mut c, service("b", "ClusterIP", &ip, &[0]), false)
        .await
        .expect("the IP went back to the range");
    assert_eq!(spec(&b).cluster_ip, ip);
}
