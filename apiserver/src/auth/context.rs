//! How the identity travels with a request: authentication puts an [`Authenticated`] into
//! the HTTP request's extensions (gRPC handlers read it from `tonic::Request::extensions`),
//! and the gRPC service runs the registry call inside [`scope`], so admission, deep in the
//! registry, reads the same user with [`current_user`] (Kubernetes' request context).

use std::future::Future;
use std::sync::Arc;

use super::user::User;

/// The request extension authentication leaves for every later step.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Arc<User>);

tokio::task_local! {
    static USER: Arc<User>;
}

/// The user of a gRPC request. A request that did not pass the authentication layer (an
/// in-process server built without one, as unit tests use) is the apiserver's own user.
pub fn user_of<T>(request: &tonic::Request<T>) -> Arc<User> {
    request
        .extensions()
        .get::<Authenticated>()
        .map(|a| a.0.clone())
        .unwrap_or_else(|| Arc::new(User::internal()))
}

/// Runs `f` as `user`: [`current_user`] inside it answers `user`.
pub async fn scope<F: Future>(user: Arc<User>, f: F) -> F::Output {
    USER.scope(user, f).await
}

/// The user of the request being served, or `None` outside any request (bootstrap,
/// controllers inside the apiserver, tests calling the registry directly).
pub fn current_user() -> Option<Arc<User>> {
    USER.try_with(|u| u.clone()).ok()
}
