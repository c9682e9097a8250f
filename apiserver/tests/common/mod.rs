//! Helpers shared by the apiserver's component tests (each test file includes this module).
#![allow(dead_code)]

use apiserver::testing::TestServer;
use proto::k8s::api_client::ApiClient;
use proto::k8s::*;
use proto::{ApiError, Resource};
use tonic::transport::Channel;

pub type Client = ApiClient<Channel>;

pub async fn connect(server: &TestServer) -> Client {
    ApiClient::connect(server.url.clone())
        .await
        .expect("connect to the test server")
        .max_decoding_message_size(64 * 1024 * 1024)
}

pub fn err(s: tonic::Status) -> ApiError {
    ApiError::from_status(&s)
}

pub fn cm(ns: &str, name: &str, data: &[(&str, &str)]) -> Object {
    let mut c = ConfigMap::default();
    c.meta_mut().name = name.into();
    c.meta_mut().namespace = ns.into();
    for (k, v) in data {
        c.data.insert((*k).into(), (*v).into());
    }
    c.into_object()
}

pub fn from_json(info: &'static proto::KindInfo, json: serde_json::Value) -> Object {
    Object::from_json_as(info, json).expect("valid test manifest")
}

pub fn deployment(name: &str, replicas: i32) -> Object {
    from_json(
        &proto::resource::info::Deployment,
        serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "web", "image": "busybox:1"}]}
                }
            }
        }),
    )
}

pub fn pod(name: &str, node: &str) -> Object {
    from_json(
        &proto::resource::info::Pod,
        serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox:1"}]}
        }),
    )
}

pub async fn create(c: &mut Client, o: Object) -> Result<Object, ApiError> {
    c.create(CreateRequest {
        object: Some(o),
        dry_run: false,
        ..Default::default()
    })
    .await
    .map(|r| r.into_inner())
    .map_err(err)
}

pub async fn get(c: &mut Client, res: &str, ns: &str, name: &str) -> Result<Object, ApiError> {
    c.get(GetRequest {
        resource: res.into(),
        namespace: ns.into(),
        name: name.into(),
    })
    .await
    .map(|r| r.into_inner())
    .map_err(err)
}

pub async fn update(c: &mut Client, o: Object, sub: &str) -> Result<Object, ApiError> {
    c.update(UpdateRequest {
        object: Some(o),
        subresource: sub.into(),
        dry_run: false,
        ..Default::default()
    })
    .await
    .map(|r| r.into_inner())
    .map_err(err)
}

pub async fn list(c: &mut Client, req: ListRequest) -> Result<ListResponse, ApiError> {
    c.list(req).await.map(|r| r.into_inner()).map_err(err)
}
