//! The generic object registry: create, get, list, update, patch, delete and the
//! subresources for every kind, over a `Store`. Kind-specific behaviour (defaults,
//! validation, what a create or update may change) lives in `admission`; this module owns
//! the API semantics every kind shares: resourceVersion, generation, optimistic
//! concurrency, finalizers and graceful deletion.

use std::sync::Arc;

use proto::k8s::{
    DeleteRequest, ListRequest, ListResponse, Object, PatchRequest, object::Kind as K,
};
use proto::{ApiError, KindInfo, Reason};
use tracing::debug;

use crate::admission;
use crate::allocator::{self, ServiceAllocator};
use crate::codec::{decode, encode, parse_revision};
use crate::error::{self, Result, conflict, from_store, not_found};
use crate::filter::Filter;
use crate::keys::{list_prefix, object_key};
use crate::patch::{self, FieldValidation, PatchType};
use crate::store::{self, Revision, Store};

/// Kubernetes refuses objects over 1.5 MiB (etcd's request limit).
pub const MAX_OBJECT_BYTES: usize = 3 * 1024 * 1024 / 2;

/// `--max-list-response-bytes`: half the 256 MiB a gRPC client of this project accepts in
/// one message (client::dynamic), so an oversized list is refused with a clear error rather
/// than failing in the client's decoder; tens of thousands of typical objects, far above
/// what our own callers list in one answer.
pub const DEFAULT_MAX_LIST_BYTES: u64 = 128 * 1024 * 1024;

/// Store rows an unpaged list reads per step: only one step's raw rows sit beside the
/// decoded objects, never the whole list twice.
const UNPAGED_STORE_BATCH: usize = 100;

/// How a list's growing answer stands against `--max-list-response-bytes`: a pure
/// decision. A paged list (`limit` set) ends its page early with a continue token, which
/// Kubernetes' API allows (fewer items than `limit`); an unpaged one cannot be cut without
/// its client silently missing objects, so it is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ListBudget {
    Within,
    EndPage,
    Refuse,
}

pub(crate) fn list_budget(bytes: u64, max: u64, paged: bool) -> ListBudget {
    match (max > 0 && bytes > max, paged) {
        (false, _) => ListBudget::Within,
        (true, true) => ListBudget::EndPage,
        (true, false) => ListBudget::Refuse,
    }
}

fn list_too_large(info: &KindInfo, max: u64) -> ApiError {
    ApiError::new(
        Reason::TooLarge,
        format!(
            "the list of {} is larger than this apiserver serves in one answer (--max-list-response-bytes={max}): list in pages with limit and continue (kubectl get --chunk-size=500)",
            info.plural
        ),
    )
}

/// How often a generated name that collided is drawn again.
const NAME_ATTEMPTS: usize = 8;

/// Retries a server-side read-modify-write (patch, delete, scale, binding) that lost a race.
/// Every lost race means another write succeeded, so retrying always makes progress, as
/// Kubernetes' GuaranteedUpdate relies on; the window only bounds pathological contention.
pub(crate) struct ConflictRetry {
    deadline: std::time::Instant,
    attempt: u32,
}

impl ConflictRetry {
    pub(crate) fn new() -> Self {
        ConflictRetry {
            deadline: std::time::Instant::now() + std::time::Duration::from_secs(30),
            attempt: 0,
        }
    }

    /// Whether to try again; after the first few attempts waits a short, jittered, growing
    /// pause so contenders stop colliding in lockstep.
    pub(crate) async fn again(&mut self) -> bool {
        if std::time::Instant::now() >= self.deadline {
            return false;
        }
        self.attempt += 1;
        if self.attempt > 2 {
            use rand::Rng;
            let max_ms = u64::from(self.attempt.min(20));
            let pause = rand::rng().random_range(0..=max_ms);
            tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
        }
        true
    }
}

pub struct Registry<S> {
    pub(crate) store: Arc<S>,
    services: ServiceAllocator,
    pub(crate) decoded: Arc<crate::watch::DecodeCache>,
    admission: admission::AdmissionConfig,
    pub(crate) pod_security: Arc<crate::pod_security::Config>,
    /// Set once the authorizer is built (`auth::authz::build`); shared by every clone.
    authorization: Arc<std::sync::RwLock<Option<Arc<crate::rbac_escalation::Authorization>>>>,
    /// Admission plugins turned off by `--disable-admission-plugins`.
    disabled_admission: Arc<std::collections::BTreeSet<String>>,
    /// `--max-list-response-bytes`: the largest list served in one answer (0: no cap).
    max_list_bytes: u64,
}

impl<S> Clone for Registry<S> {
    fn clone(&self) -> Self {
        Registry {
            store: self.store.clone(),
            services: self.services.clone(),
            decoded: self.decoded.clone(),
            admission: self.admission,
            pod_security: self.pod_security.clone(),
            authorization: self.authorization.clone(),
            disabled_admission: self.disabled_admission.clone(),
            max_list_bytes: self.max_list_bytes,
        }
    }
}

/// A stored object together with the revision it was read at.
struct Current {
    object: Object,
    revision: Revision,
}

pub fn resolve_kind(resource: &str) -> Result<&'static KindInfo> {
    proto::resource::kind_by_plural(resource).ok_or_else(|| {
        ApiError::not_found(format!(
            "the server could not find the requested resource {resource:?}"
        ))
    })
}

/// The namespace a request addresses: required for namespaced kinds, ignored otherwise.
pub(crate) fn request_namespace<'a>(info: &KindInfo, namespace: &'a str) -> Result<&'a str> {
    if !info.namespaced {
        return Ok("");
    }
    if namespace.is_empty() {
        return Err(ApiError::bad_request(format!(
            "{}: a namespace is required",
            info.plural
        )));
    }
    Ok(namespace)
}

/// Which part of an object a write may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Everything but status and server-set metadata.
    Main,
    /// Only `status`.
    Status,
    /// Only a namespace's `spec.finalizers` (Kubernetes' `finalize` subresource).
    Finalize,
    /// Only a CertificateSigningRequest's Approved/Denied conditions.
    Approval,
}

impl Part {
    fn from_subresource(info: &KindInfo, subresource: &str) -> Result<Part> {
        match subresource {
            "" => Ok(Part::Main),
            "status" if info.has_status => Ok(Part::Status),
            "finalize" if info.plural == "namespaces" => Ok(Part::Finalize),
            "approval" if info.plural == "certificatesigningrequests" => Ok(Part::Approval),
            other => Err(ApiError::bad_request(format!(
                "{} has no subresource {other:?}",
                info.plural
            ))),
        }
    }

    fn subresource(self) -> &'static str {
        match self {
            Part::Main => "",
            Part::Status => "status",
            Part::Finalize => "finalize",
            Part::Approval => "approval",
        }
    }
}

pub(crate) fn uid_precondition_failed(want: &str, have: &str) -> ApiError {
    ApiError::conflict(format!(
        "Precondition failed: UID in precondition: {want}, UID in object meta: {have}"
    ))
}

fn require_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(ApiError::bad_request("a name is required"));
    }
    Ok(())
}

pub(crate) fn check_size(info: &KindInfo, name: &str, bytes: usize) -> Result<()> {
    if bytes > MAX_OBJECT_BYTES {
        return Err(ApiError::new(
            Reason::TooLarge,
            format!(
                "{} is too large: {bytes} bytes, the limit is {MAX_OBJECT_BYTES} bytes",
                error::object_ref(info, name)
            ),
        ));
    }
    Ok(())
}

impl<S: Store> Registry<S> {
    /// A registry allocating Service IPs and ports from Kubernetes' default ranges.
    pub fn new(store: Arc<S>) -> Self {
        Self::with_services(store, ServiceAllocator::default())
    }

    pub fn with_services(store: Arc<S>, services: ServiceAllocator) -> Self {
        Registry {
            store,
            services,
            decoded: Arc::default(),
            admission: admission::AdmissionConfig::default(),
            pod_security: Arc::default(),
            authorization: Arc::default(),
            disabled_admission: Arc::default(),
            max_list_bytes: DEFAULT_MAX_LIST_BYTES,
        }
    }

    /// The largest list answer, in bytes of stored objects (`--max-list-response-bytes`;
    /// 0 for no cap).
    pub fn with_max_list_bytes(mut self, bytes: u64) -> Self {
        self.max_list_bytes = bytes;
        self
    }

    /// Turns admission plugins off by name (`NodeRestriction`, `ServiceAccount`,
    /// `PodSecurity`), as `--disable-admission-plugins` does.
    pub fn with_disabled_admission(mut self, plugins: &[String]) -> Self {
        self.disabled_admission = Arc::new(
            plugins
                .iter()
                .flat_map(|p| p.split(','))
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect(),
        );
        self
    }

    pub(crate) fn admission_enabled(&self, plugin: &str) -> bool {
        !self.disabled_admission.contains(plugin)
    }

    /// The authorizer admission asks (escalation, CSR approval and signing) and the RBAC
    /// objects in force; every clone of this registry sees it.
    pub fn set_authorization(
        &self,
        authorizer: Arc<dyn crate::auth::Authorizer>,
        rbac: Option<Arc<crate::auth::rbac::cache::RbacCache>>,
    ) {
        let auth = Arc::new(crate::rbac_escalation::Authorization { authorizer, rbac });
        *self
            .authorization
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Some(auth);
    }

    fn authorization(&self) -> Option<Arc<crate::rbac_escalation::Authorization>> {
        self.authorization
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether `user` may `verb` (approve, sign) requests of this CSR's signer; always when
    /// no authorizer was built.
    async fn check_signer(
        &self,
        user: Option<&crate::auth::User>,
        verb: &str,
        csr: &Object,
    ) -> Result<()> {
        let (Some(auth), Some(user)) = (self.authorization(), user) else {
            return Ok(());
        };
        let signer = crate::csr_admission::signer_name(csr);
        for attrs in crate::csr_admission::signer_attributes(verb, &signer) {
            if auth.allows(user, &attrs).await {
                return Ok(());
            }
        }
        Err(crate::csr_admission::not_permitted(
            &csr.meta().name,
            verb,
            &signer,
        ))
    }

    /// ServiceAccount admission for a new pod: the account must exist; its token is mounted.
    async fn admit_service_account(&self, object: &mut Object) -> Result<()> {
        use crate::serviceaccount_admission as sa;
        if !self.admission_enabled(sa::NAME) {
            return Ok(());
        }
        let Some(K::Pod(pod)) = &mut object.kind else {
            return Ok(());
        };
        let meta = pod.metadata.clone().unwrap_or_default();
        let name = sa::default_service_account(pod);
        let account = match self
            .read(
                &proto::resource::info::ServiceAccount,
                &meta.namespace,
                &name,
            )
            .await
        {
            Ok(cur) => match cur.object.kind {
                Some(K::ServiceAccount(a)) => a,
                _ => return Err(ApiError::internal("stored ServiceAccount has another kind")),
            },
            Err(e) if e.reason == Reason::NotFound => {
                let shown = if meta.name.is_empty() {
                    &meta.generate_name
                } else {
                    &meta.name
                };
                return Err(sa::missing(shown, &meta.namespace, &name));
            }
            Err(e) => return Err(e),
        };
        sa::mount_token(pod, &account, &generated_name(""));
        Ok(())
    }

    /// NodeRestriction admission, for requests made by a kubelet.
    fn admit_node(
        &self,
        op: crate::node_restriction::Operation,
        subresource: &str,
        object: &Object,
        old: Option<&Object>,
    ) -> Result<()> {
        use crate::node_restriction as nr;
        if !self.admission_enabled(nr::NAME) {
            return Ok(());
        }
        match crate::auth::context::current_user() {
            Some(user) => nr::admit(&user, op, subresource, object, old),
            None => Ok(()),
        }
    }

    /// Pod Security admission settings other than Kubernetes' defaults.
    pub fn with_pod_security(mut self, config: crate::pod_security::Config) -> Self {
        self.pod_security = Arc::new(config);
        self
    }

    /// Admission settings other than Kubernetes' defaults.
    pub fn with_admission(mut self, admission: admission::AdmissionConfig) -> Self {
        self.admission = admission;
        self
    }

    async fn read(&self, info: &'static KindInfo, namespace: &str, name: &str) -> Result<Current> {
        let key = object_key(info, namespace, name);
        let kv = self
            .store
            .get(&key)
            .await
            .map_err(|e| from_store(info, name, e))?
            .ok_or_else(|| not_found(info, name))?;
        Ok(Current {
            object: decode(&kv.value, kv.mod_revision)?,
            revision: kv.mod_revision,
        })
    }

    pub async fn get(&self, resource: &str, namespace: &str, name: &str) -> Result<Object> {
        let info = resolve_kind(resource)?;
        let namespace = request_namespace(info, namespace)?;
        require_name(name)?;
        Ok(self.read(info, namespace, name).await?.object)
    }

    pub async fn create(&self, object: Object, dry_run: bool) -> Result<Object> {
        self.create_managed(object, dry_run, "").await
    }

    /// Create recording `field_manager` (if any) as the owner of every field it sets.
    pub async fn create_managed(
        &self,
        object: Object,
        dry_run: bool,
        field_manager: &str,
    ) -> Result<Object> {
        let info = object
            .info()
            .ok_or_else(|| ApiError::bad_request("object has no kind"))?;
        let mut object = object;
        admission::prepare_for_create(&mut object);
        record_update(info, &mut object, None, field_manager, "");
        admission::add_default_tolerations(&mut object, &self.admission);
        let default_class = self.admission_enabled(crate::default_storage_class::NAME);
        // Boxed: the claim's class lookup would otherwise grow every create's future.
        Box::pin(crate::default_storage_class::admit(
            self,
            &mut object,
            default_class,
        ))
        .await?;
        if info.namespaced && object.meta().namespace.is_empty() {
            object.meta_mut().namespace = "default".to_string();
        }
        let generate = object.meta().name.is_empty() && !object.meta().generate_name.is_empty();
        if generate {
            object.meta_mut().name = generated_name(&object.meta().generate_name);
        }
        let user = crate::auth::context::current_user();
        if let Some(user) = &user {
            crate::csr_admission::set_requestor(&mut object, user);
        }
        self.admit_limit_ranges(&mut object, None, "").await?;
        admission::validate_create(info, &object)?;
        let namespace = object.meta().namespace.clone();
        if info.namespaced {
            self.check_namespace_accepts_content(&namespace).await?;
        }
        // After the namespace check, so a missing namespace is reported as such; what it
        // adds (one well-formed volume and its mounts) needs no second validation.
        self.admit_service_account(&mut object).await?;
        self.admit_node(
            crate::node_restriction::Operation::Create,
            "",
            &object,
            None,
        )?;
        crate::rbac_escalation::check(
            self.authorization().as_deref(),
            user.as_deref(),
            &object,
            None,
        )
        .await?;
        let display_name = if generate {
            object.meta().generate_name.clone()
        } else {
            object.meta().name.clone()
        };
        if self.admission_enabled("PodSecurity") {
            self.admit_pod_security(&object, None, &display_name)
                .await?;
        }
        // Last before the write: charges the namespace's quotas (compare-and-swap).
        // Boxed, as is the update path's: its future would sit in every write's frame.
        if self.admission_enabled(crate::quota::NAME) {
            Box::pin(self.admit_quota(info, &object, None, dry_run)).await?;
        }
        let mut attempts = 0;
        loop {
            let name = object.meta().name.clone();
            let key = object_key(info, &namespace, &name);
            let allocation = (self.services)
                .allocate(&*self.store, &key, None, &mut object, dry_run)
                .await?;
            let bytes = encode(&object);
            if let Err(e) = check_size(info, &name, bytes.len()) {
                self.services.settle(&*self.store, allocation, false).await;
                return Err(e);
            }
            if dry_run {
                // A dry run answers as the real create would, collisions included.
                let exists = self
                    .store
                    .get(&key)
                    .await
                    .map_err(|e| from_store(info, &name, e))?;
                if exists.is_some() {
                    return Err(from_store(info, &name, store::Error::AlreadyExists(key)));
                }
                return Ok(object);
            }
            let created = self.store.create(&key, bytes).await;
            (self.services)
                .settle(&*self.store, allocation, created.is_ok())
                .await;
            match created {
                Ok(rev) => {
                    debug!(key = %key, rev, "created");
                    object.meta_mut().resource_version = rev.to_string();
                    object.set_type_meta();
                    return Ok(object);
                }
                // A generated name that collided: draw another, as Kubernetes does.
                Err(store::Error::AlreadyExists(_)) if generate && attempts < NAME_ATTEMPTS => {
                    attempts += 1;
                    object.meta_mut().name = generated_name(&object.meta().generate_name);
                }
                Err(e) => return Err(from_store(info, &name, e)),
            }
        }
    }

    async fn check_namespace_accepts_content(&self, namespace: &str) -> Result<()> {
        let ns_info = &proto::resource::info::Namespace;
        match self.read(ns_info, "", namespace).await {
            Ok(cur) => {
                if !cur.object.meta().deletion_timestamp.is_empty() {
                    return Err(ApiError::new(
                        Reason::Forbidden,
                        format!(
                            "unable to create new content in namespace {namespace} because it is being terminated"
                        ),
                    ));
                }
                Ok(())
            }
            Err(e) if e.reason == Reason::NotFound => Err(ApiError::not_found(format!(
                "namespaces \"{namespace}\" not found"
            ))),
            Err(e) => Err(e),
        }
    }

    pub async fn list(&self, req: &ListRequest) -> Result<ListResponse> {
        let info = resolve_kind(&req.resource)?;
        let filter = Filter::new(info, &req.label_selector, &req.field_selector)?;
        let prefix = list_prefix(info, &req.namespace);
        let limit = usize::try_from(req.limit.max(0)).unwrap_or(usize::MAX);
        let mut start_after = if req.r#continue.is_empty() {
            None
        } else {
            Some(decode_continue(&req.r#continue, &prefix)?)
        };
        let mut items = Vec::new();
        let mut revision = None;
        let mut bytes = 0u64;
        let mut cut = false;
        // Filtering happens above the store, so a page of `limit` matches may take several
        // store pages.
        loop {
            let batch = if limit == 0 {
                UNPAGED_STORE_BATCH
            } else {
                (limit - items.len()).max(64)
            };
            let page = self
                .store
                .list(&prefix, start_after.as_deref(), batch)
                .await
                .map_err(|e| from_store(info, "", e))?;
            revision.get_or_insert(page.revision);
            let mut last_key = None;
            for kv in page.items {
                let object = decode(&kv.value, kv.mod_revision)?;
                last_key = Some(kv.key);
                if filter.matches(&object) {
                    items.push(object);
                    bytes += kv.value.len() as u64;
                    match list_budget(bytes, self.max_list_bytes, limit > 0) {
                        ListBudget::Within => {}
                        ListBudget::EndPage => {
                            cut = true;
                            break;
                        }
                        ListBudget::Refuse => {
                            debug!(
                                resource = info.plural,
                                bytes, "unpaged list refused: too large"
                            );
                            return Err(list_too_large(info, self.max_list_bytes));
                        }
                    }
                }
                if limit > 0 && items.len() == limit {
                    break;
                }
            }
            let exhausted = !page.more;
            let full = limit > 0 && (items.len() >= limit || cut);
            if full {
                // More may follow when the store had more or this page was cut short.
                let cont = match &last_key {
                    Some(k) if !exhausted || self.has_more_after(&prefix, k).await? => {
                        encode_continue(k)
                    }
                    _ => String::new(),
                };
                return Ok(ListResponse {
                    items,
                    resource_version: revision.unwrap_or_default().to_string(),
                    r#continue: cont,
                    remaining_item_count: None,
                });
            }
            if exhausted || last_key.is_none() {
                return Ok(ListResponse {
                    items,
                    resource_version: revision.unwrap_or_default().to_string(),
                    r#continue: String::new(),
                    remaining_item_count: None,
                });
            }
            start_after = last_key;
        }
    }

    async fn has_more_after(&self, prefix: &str, key: &str) -> Result<bool> {
        let page = self
            .store
            .list(prefix, Some(key), 1)
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(!page.items.is_empty())
    }

    /// Update of the main resource (`subresource` "") or of `status`.
    pub async fn update(&self, object: Object, subresource: &str, dry_run: bool) -> Result<Object> {
        self.update_managed(object, subresource, dry_run, "").await
    }

    /// Update recording `field_manager` (if any) as the owner of the fields it changes.
    pub async fn update_managed(
        &self,
        object: Object,
        subresource: &str,
        dry_run: bool,
        field_manager: &str,
    ) -> Result<Object> {
        let info = object
            .info()
            .ok_or_else(|| ApiError::bad_request("object has no kind"))?;
        let part = Part::from_subresource(info, subresource)?;
        let namespace = request_namespace(info, &object.meta().namespace)?.to_string();
        let name = object.meta().name.clone();
        require_name(&name)?;
        // "0" like "": no precondition, as Kubernetes reads it.
        let expected = parse_revision(&object.meta().resource_version)?.filter(|rv| *rv > 0);
        let mut retry = ConflictRetry::new();
        loop {
            let cur = self.read(info, &namespace, &name).await?;
            if let Some(rev) = expected
                && rev != cur.revision
            {
                return Err(conflict(info, &name));
            }
            let uid = &object.meta().uid;
            if !uid.is_empty() && *uid != cur.object.meta().uid {
                return Err(uid_precondition_failed(uid, &cur.object.meta().uid));
            }
            match self
                .write_update(info, cur, object.clone(), part, dry_run, field_manager)
                .await
            {
                // Without a resourceVersion the client asked for its object to win, whatever
                // was there: a write that raced us is no reason to refuse.
                Err(e)
                    if e.reason == Reason::Conflict
                        && expected.is_none()
                        && retry.again().await =>
                {
                    continue;
                }
                other => return other,
            }
        }
    }

    /// Merges `incoming` into `cur` by the rules of the (sub)resource and writes the result
    /// guarded by `cur.revision`.
    async fn write_update(
        &self,
        info: &'static KindInfo,
        cur: Current,
        incoming: Object,
        part: Part,
        dry_run: bool,
        field_manager: &str,
    ) -> Result<Object> {
        let name = cur.object.meta().name.clone();
        let namespace = cur.object.meta().namespace.clone();
        let mut new = match part {
            Part::Status => {
                let mut new = cur.object.clone();
                new.copy_status_from(&incoming);
                new
            }
            Part::Finalize => {
                let mut new = cur.object.clone();
                admission::copy_namespace_finalizers(&mut new, &incoming);
                new
            }
            Part::Approval => crate::csr_admission::approval_update(&cur.object, &incoming)?,
            Part::Main => {
                let mut new = incoming;
                new.copy_status_from(&cur.object);
                admission::prepare_for_update(info, &mut new, &cur.object);
                new
            }
        };
        carry_server_metadata(&mut new, &cur.object);
        if part == Part::Main {
            allocator::keep_allocated_values(&mut new, &cur.object);
        }
        record_update(
            info,
            &mut new,
            Some(&cur.object),
            field_manager,
            part.subresource(),
        );
        if part == Part::Main
            && admission::tracks_generation(info)
            && new.spec_part() != cur.object.spec_part()
        {
            new.meta_mut().generation = cur.object.meta().generation + 1;
        }
        let user = crate::auth::context::current_user();
        if info.plural == "certificatesigningrequests" {
            match part {
                Part::Approval if crate::csr_admission::decides(&new, &cur.object) => {
                    self.check_signer(user.as_deref(), "approve", &new).await?;
                }
                Part::Status => {
                    crate::csr_admission::status_update(&mut new, &cur.object)?;
                    if crate::csr_admission::issues_certificate(&new, &cur.object) {
                        self.check_signer(user.as_deref(), "sign", &new).await?;
                    }
                }
                _ => {}
            }
        }
        admission::validate_update(info, &new, &cur.object)?;
        self.admit_limit_ranges(&mut new, Some(&cur.object), part.subresource())
            .await?;
        // After LimitRanger, as Kubernetes orders its validating plugins.
        let resize = self.admission_enabled(crate::pvc_resize::NAME);
        Box::pin(crate::pvc_resize::admit(
            self,
            &new,
            &cur.object,
            part.subresource(),
            resize,
        ))
        .await?;
        self.admit_node(
            crate::node_restriction::Operation::Update,
            part.subresource(),
            &new,
            Some(&cur.object),
        )?;
        if part == Part::Main {
            crate::rbac_escalation::check(
                self.authorization().as_deref(),
                user.as_deref(),
                &new,
                Some(&cur.object),
            )
            .await?;
            if self.admission_enabled("PodSecurity") {
                self.admit_pod_security(&new, Some(&cur.object), &name)
                    .await?;
            }
            if self.admission_enabled(crate::quota::NAME) {
                Box::pin(self.admit_quota(info, &new, Some(&cur.object), dry_run)).await?;
            }
        }
        // An update that changes nothing writes nothing. Compared with the stored
        // resourceVersion in place rather than on copies: this is every update's path.
        new.meta_mut().resource_version = cur.object.meta().resource_version.clone();
        let key = object_key(info, &namespace, &name);
        // ...unless it is stored with an old encryption key, or in plain where it should be
        // encrypted: then the unchanged object is rewritten (Kubernetes' rotation step
        // `kubectl get secrets -o json | kubectl replace -f -`).
        if new == cur.object
            && !self
                .store
                .needs_rewrite(&key, cur.revision)
                .await
                .map_err(|e| from_store(info, &name, e))?
        {
            return Ok(cur.object);
        }
        new.meta_mut().resource_version.clear();
        // Status and finalize writes keep the spec as stored, allocated values included.
        let allocation = if part == Part::Main {
            (self.services)
                .allocate(&*self.store, &key, Some(&cur.object), &mut new, dry_run)
                .await?
        } else {
            allocator::Allocation::default()
        };
        let bytes = encode(&new);
        if let Err(e) = check_size(info, &name, bytes.len()) {
            self.services.settle(&*self.store, allocation, false).await;
            return Err(e);
        }
        if dry_run {
            // As stored now: a dry run writes nothing, so the revision is the current one
            // (`kubectl diff` shows no resourceVersion change).
            new.meta_mut().resource_version = cur.object.meta().resource_version.clone();
            new.set_type_meta();
            return Ok(new);
        }
        if finalized(&new) {
            // The last finalizer went: the deletion that was waiting for it completes now.
            let deleted = self.store.delete(&key, Some(cur.revision)).await;
            self.services.settle(&*self.store, allocation, false).await;
            let (rev, _) = deleted.map_err(|e| from_store(info, &name, e))?;
            (self.services)
                .release_all(&*self.store, &key, &cur.object)
                .await;
            debug!(key = %key, rev, "deleted after its last finalizer was removed");
            new.meta_mut().resource_version = rev.to_string();
            new.set_type_meta();
            return Ok(new);
        }
        let updated = self.store.update(&key, bytes, cur.revision).await;
        (self.services)
            .settle(&*self.store, allocation, updated.is_ok())
            .await;
        let rev = updated.map_err(|e| from_store(info, &name, e))?;
        debug!(key = %key, rev, "updated");
        new.meta_mut().resource_version = rev.to_string();
        new.set_type_meta();
        Ok(new)
    }

    pub async fn patch(&self, req: &PatchRequest) -> Result<Object> {
        let info = resolve_kind(&req.resource)?;
        let namespace = request_namespace(info, &req.namespace)?;
        require_name(&req.name)?;
        let part = Part::from_subresource(info, &req.subresource)?;
        let ty = patch::patch_type(&req.patch_type)?;
        let validation = FieldValidation::parse(&req.field_validation)?;
        if req.force && ty != PatchType::Apply {
            return Err(ApiError::bad_request(
                "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch",
            ));
        }
        let parsed = patch::parse(ty, &req.patch)?;
        if ty == PatchType::Apply {
            // Boxed: its future is large and would otherwise sit in every patch's frame.
            return Box::pin(self.apply(info, namespace, req, part, validation, parsed)).await;
        }
        let message = format!("k8s.{}", info.kind);
        // A resourceVersion inside the patch is a precondition, as in Kubernetes.
        let precondition = parsed
            .pointer("/metadata/resourceVersion")
            .and_then(|v| v.as_str())
            .map(parse_revision)
            .transpose()?
            .flatten();
        let mut retry = ConflictRetry::new();
        loop {
            let cur = self.read(info, namespace, &req.name).await?;
            if let Some(rev) = precondition
                && rev != cur.revision
            {
                return Err(conflict(info, &req.name));
            }
            let mut doc = patch::patch_value(ty, &message, &cur.object.to_json(), &parsed)?;
            let warnings = validation.check(info, &mut doc)?;
            let mut patched = object_from_patched(info, doc)?;
            // Identity comes from the request, whatever the patch said.
            patched.meta_mut().name = req.name.clone();
            patched.meta_mut().namespace = namespace.to_string();
            match self
                .write_update(info, cur, patched, part, req.dry_run, &req.field_manager)
                .await
            {
                Err(e)
                    if e.reason == Reason::Conflict
                        && precondition.is_none()
                        && retry.again().await =>
                {
                    continue;
                }
                other => {
                    if other.is_ok() {
                        warnings.into_iter().for_each(crate::warnings::add);
                    }
                    return other;
                }
            }
        }
    }

    /// Server-side apply: merges the manager's configuration into the object (creating it
    /// when absent), refusing changes to fields other managers own unless forced.
    async fn apply(
        &self,
        info: &'static KindInfo,
        namespace: &str,
        req: &PatchRequest,
        part: Part,
        validation: FieldValidation,
        mut config: serde_json::Value,
    ) -> Result<Object> {
        if req.field_manager.is_empty() {
            return Err(ApiError::bad_request(
                "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
            ));
        }
        let named = config
            .pointer("/metadata/name")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string();
        if !named.is_empty() && named != req.name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({named}) does not match the name on the URL ({})",
                req.name
            )));
        }
        let warnings = validation.check(info, &mut config)?;
        let subresource = part.subresource();
        let mut retry = ConflictRetry::new();
        loop {
            let now = proto::time::format_rfc3339(std::time::SystemTime::now());
            let result = match self.read(info, namespace, &req.name).await {
                Ok(cur) => {
                    let live = cur.object.to_json();
                    let applied = patch::apply::apply(
                        info,
                        Some(&live),
                        &config,
                        &cur.object.meta().managed_fields,
                        &req.field_manager,
                        subresource,
                        req.force,
                        &now,
                    )?;
                    let mut object = object_from_patched(info, applied.object)?;
                    object.meta_mut().name = req.name.clone();
                    object.meta_mut().namespace = namespace.to_string();
                    object.meta_mut().managed_fields = applied.managed_fields;
                    self.write_update(info, cur, object, part, req.dry_run, "")
                        .await
                }
                Err(e) if e.reason == Reason::NotFound && part == Part::Main => {
                    let applied = patch::apply::apply(
                        info,
                        None,
                        &config,
                        &[],
                        &req.field_manager,
                        "",
                        req.force,
                        &now,
                    )?;
                    let mut object = object_from_patched(info, applied.object)?;
                    object.meta_mut().name = req.name.clone();
                    object.meta_mut().namespace = namespace.to_string();
                    object.meta_mut().managed_fields = applied.managed_fields;
                    match self.create(object, req.dry_run).await {
                        // Created meanwhile by someone else: apply to that.
                        Err(e) if e.reason == Reason::AlreadyExists => {
                            Err(ApiError::conflict(e.message))
                        }
                        other => other,
                    }
                }
                Err(e) => Err(e),
            };
            match result {
                Err(e)
                    if e.reason == Reason::Conflict
                        && !e.message.starts_with("Apply failed")
                        && retry.again().await =>
                {
                    continue;
                }
                other => {
                    if other.is_ok() {
                        warnings.into_iter().for_each(crate::warnings::add);
                    }
                    return other;
                }
            }
        }
    }

    pub async fn delete(&self, req: &DeleteRequest) -> Result<Object> {
        let info = resolve_kind(&req.resource)?;
        let namespace = request_namespace(info, &req.namespace)?;
        require_name(&req.name)?;
        let propagation = match req.propagation_policy.as_str() {
            "" | "Background" => Propagation::Background,
            "Foreground" => Propagation::Foreground,
            "Orphan" => Propagation::Orphan,
            other => {
                return Err(ApiError::bad_request(format!(
                    "propagationPolicy {other:?} is not supported: supported values: \"Background\", \"Foreground\", \"Orphan\""
                )));
            }
        };
        if let Some(g) = req.grace_period_seconds
            && g < 0
        {
            return Err(ApiError::invalid(format!(
                "gracePeriodSeconds: Invalid value: {g}: must be >= 0"
            )));
        }
        if info.plural == "namespaces" && admission::is_protected_namespace(&req.name) {
            return Err(ApiError::new(
                Reason::Forbidden,
                format!(
                    "namespaces \"{}\" is forbidden: this namespace may not be deleted",
                    req.name
                ),
            ));
        }
        let mut retry = ConflictRetry::new();
        loop {
            let cur = self.read(info, namespace, &req.name).await?;
            if let Some(p) = &req.preconditions {
                if !p.uid.is_empty() && p.uid != cur.object.meta().uid {
                    return Err(uid_precondition_failed(&p.uid, &cur.object.meta().uid));
                }
                if let Some(rev) = parse_revision(&p.resource_version)?
                    && rev != cur.revision
                {
                    return Err(ApiError::conflict(format!(
                        "Precondition failed: ResourceVersion in precondition: {rev}, ResourceVersion in object meta: {}",
                        cur.revision
                    )));
                }
            }
            self.admit_node(
                crate::node_restriction::Operation::Delete,
                "",
                &cur.object,
                None,
            )?;
            let plan = plan_deletion(&cur.object, propagation, req.grace_period_seconds);
            let result = match plan {
                DeletionPlan::Now => self.delete_now(info, &cur, req.dry_run).await,
                DeletionPlan::Mark(marked) => {
                    // `marked` is the stored object, resourceVersion included, plus the marks.
                    if marked == cur.object {
                        return Ok(cur.object);
                    }
                    if req.dry_run {
                        return Ok(marked);
                    }
                    let key = object_key(info, namespace, &req.name);
                    let mut marked = marked;
                    self.store
                        .update(&key, encode(&marked), cur.revision)
                        .await
                        .map(|rev| {
                            marked.meta_mut().resource_version = rev.to_string();
                            marked.set_type_meta();
                            marked
                        })
                        .map_err(|e| from_store(info, &req.name, e))
                }
            };
            match result {
                // The object changed between our read and write (a status update, say):
                // decide again on what is there now.
                Err(e) if e.reason == Reason::Conflict && retry.again().await => continue,
                other => return other,
            }
        }
    }

    async fn delete_now(
        &self,
        info: &'static KindInfo,
        cur: &Current,
        dry_run: bool,
    ) -> Result<Object> {
        let name = &cur.object.meta().name;
        if dry_run {
            return Ok(cur.object.clone());
        }
        let key = object_key(info, &cur.object.meta().namespace, name);
        let (rev, _) = self
            .store
            .delete(&key, Some(cur.revision))
            .await
            .map_err(|e| from_store(info, name, e))?;
        (self.services)
            .release_all(&*self.store, &key, &cur.object)
            .await;
        debug!(key = %key, rev, "deleted");
        let mut gone = cur.object.clone();
        gone.meta_mut().resource_version = rev.to_string();
        Ok(gone)
    }

    /// Reads, changes and writes one object, retrying when a concurrent write got there
    /// first. `change` returns `Ok(None)` to write nothing.
    pub async fn read_modify_write<F>(
        &self,
        info: &'static KindInfo,
        namespace: &str,
        name: &str,
        mut change: F,
    ) -> Result<Object>
    where
        F: FnMut(&Object) -> Result<Option<Object>>,
    {
        let mut retry = ConflictRetry::new();
        loop {
            let cur = self.read(info, namespace, name).await?;
            let Some(new) = change(&cur.object)? else {
                return Ok(cur.object);
            };
            match self
                .write_update(info, cur, new, Part::Main, false, "")
                .await
            {
                Err(e) if e.reason == Reason::Conflict && retry.again().await => continue,
                other => return other,
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    Background,
    Foreground,
    Orphan,
}

// Built once per delete request and consumed at once: no reason to box the object.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, PartialEq)]
pub enum DeletionPlan {
    /// Remove the object from the store now.
    Now,
    /// Keep it, marked with this deletionTimestamp / finalizers / phase, until its
    /// finalizers are removed or its grace period is over.
    Mark(Object),
}

pub const FOREGROUND_FINALIZER: &str = "foregroundDeletion";
pub const ORPHAN_FINALIZER: &str = "orphan";

/// What a delete request does to an object: a pure decision, so it is tested without a
/// store. Kubernetes' rules: namespaces turn Terminating; foreground and orphan deletion add
/// their finalizer; an object with finalizers only gets a deletionTimestamp; a pod bound to a
/// node gets a grace period for its kubelet to stop it; everything else goes now.
pub fn plan_deletion(
    cur: &Object,
    propagation: Propagation,
    grace_period: Option<i64>,
) -> DeletionPlan {
    let mut marked = cur.clone();
    let already_deleting = !cur.meta().deletion_timestamp.is_empty();
    let now = std::time::SystemTime::now();

    if let Some(K::Namespace(ns)) = &mut marked.kind {
        // Emptied and finalized by the namespace controller: it may go now.
        if already_deleting && namespace_finalized(ns) {
            return DeletionPlan::Now;
        }
        if !already_deleting {
            let meta = ns.metadata.get_or_insert_with(Default::default);
            meta.deletion_timestamp = proto::time::format_rfc3339(now);
            meta.deletion_grace_period_seconds = Some(0);
        }
        ns.status.get_or_insert_with(Default::default).phase = "Terminating".to_string();
        return DeletionPlan::Mark(marked);
    }

    let meta = marked.meta_mut();
    let finalizer = match propagation {
        Propagation::Foreground => Some(FOREGROUND_FINALIZER),
        Propagation::Orphan => Some(ORPHAN_FINALIZER),
        Propagation::Background => None,
    };
    if let Some(f) = finalizer
        && !meta.finalizers.iter().any(|x| x == f)
    {
        meta.finalizers.push(f.to_string());
    }

    if let Some(K::Pod(pod)) = &cur.kind {
        let bound = pod.spec.as_ref().is_some_and(|s| !s.node_name.is_empty());
        let terminal = pod
            .status
            .as_ref()
            .is_some_and(|s| s.phase == "Succeeded" || s.phase == "Failed");
        let spec_grace = pod
            .spec
            .as_ref()
            .and_then(|s| s.termination_grace_period_seconds);
        // Saturates: a grace period beyond 68 years is as good as forever.
        let grace = grace_period
            .or(spec_grace.map(i64::from))
            .unwrap_or(30)
            .clamp(0, i64::from(i32::MAX)) as i32;
        if bound && !terminal && grace > 0 {
            let meta = marked.meta_mut();
            let current_grace = meta.deletion_grace_period_seconds;
            // A second delete may shorten the grace period, never lengthen it.
            if current_grace.is_none_or(|g| grace < g) {
                meta.deletion_grace_period_seconds = Some(grace);
                meta.deletion_timestamp = proto::time::format_rfc3339(
                    now + std::time::Duration::from_secs(grace.unsigned_abs().into()),
                );
            }
            return DeletionPlan::Mark(marked);
        }
    }

    let meta = marked.meta_mut();
    if meta.finalizers.is_empty() {
        return DeletionPlan::Now;
    }
    // From here on the object waits only for its finalizers: no grace period is left (a
    // pod's kubelet has asked for grace 0), so removing the last finalizer deletes it.
    if meta.deletion_timestamp.is_empty() || meta.deletion_grace_period_seconds.unwrap_or(0) > 0 {
        meta.deletion_timestamp = proto::time::format_rfc3339(now);
    }
    meta.deletion_grace_period_seconds = Some(0);
    DeletionPlan::Mark(marked)
}

fn namespace_finalized(ns: &proto::k8s::Namespace) -> bool {
    let meta_done = ns.metadata.as_ref().is_none_or(|m| m.finalizers.is_empty());
    let spec_done = ns.spec.as_ref().is_none_or(|s| s.finalizers.is_empty());
    meta_done && spec_done
}

/// An object whose deletion was waiting only for finalizers, which are now gone.
fn finalized(object: &Object) -> bool {
    let meta = object.meta();
    if meta.deletion_timestamp.is_empty() || !meta.finalizers.is_empty() {
        return false;
    }
    match &object.kind {
        Some(K::Namespace(ns)) => namespace_finalized(ns),
        _ => meta.deletion_grace_period_seconds.unwrap_or(0) == 0,
    }
}

/// Decodes a patched document; a patch may write int-or-string and quantity fields as
/// numbers, as manifests do, and `null` where Go clients mean "unset" (kubectl rollout
/// undo replaces the template with one carrying `creationTimestamp: null`).
fn object_from_patched(info: &'static KindInfo, doc: serde_json::Value) -> Result<Object> {
    let doc = proto::manifest::normalize(proto::manifest::strip_nulls(doc));
    Object::from_json_as(info, doc).map_err(|e| {
        ApiError::invalid(format!(
            "patch produced an invalid object: {}: {}",
            e.path(),
            e.inner()
        ))
    })
}

/// Records in `object`'s managedFields that `manager` set the fields it changed from `old`
/// (None: created them all); nothing without a manager.
pub(crate) fn record_update(
    info: &'static KindInfo,
    object: &mut Object,
    old: Option<&Object>,
    manager: &str,
    subresource: &str,
) {
    if manager.is_empty() {
        return;
    }
    let now = proto::time::format_rfc3339(std::time::SystemTime::now());
    let new_json = object.to_json();
    let old_json = old.map(Object::to_json);
    let mut entries = std::mem::take(&mut object.meta_mut().managed_fields);
    patch::managed_fields::record_update(
        info,
        &mut entries,
        old_json.as_ref(),
        &new_json,
        manager,
        subresource,
        &now,
    );
    object.meta_mut().managed_fields = entries;
}

/// Fields only the server sets survive any update unchanged.
fn carry_server_metadata(new: &mut Object, cur: &Object) {
    let c = cur.meta();
    let (uid, created, generation) = (c.uid.clone(), c.creation_timestamp.clone(), c.generation);
    let (deletion, grace) = (
        c.deletion_timestamp.clone(),
        c.deletion_grace_period_seconds,
    );
    let m = new.meta_mut();
    m.uid = uid;
    m.creation_timestamp = created;
    m.generation = generation;
    m.deletion_timestamp = deletion;
    m.deletion_grace_period_seconds = grace;
    m.resource_version.clear();
    m.generate_name = c.generate_name.clone();
    // A writer that does not send managedFields keeps them as they are (Kubernetes' rule).
    if m.managed_fields.is_empty() {
        m.managed_fields = c.managed_fields.clone();
    }
}

const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// Kubernetes' generateName: the prefix (cut to leave room) and five random characters.
fn generated_name(prefix: &str) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    let keep = prefix.len().min(58);
    let mut name: String = prefix.chars().take(keep).collect();
    for _ in 0..5 {
        name.push(NAME_ALPHABET[rng.random_range(0..NAME_ALPHABET.len())] as char);
    }
    name
}

fn encode_continue(last_key: &str) -> String {
    last_key.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_continue(token: &str, prefix: &str) -> Result<String> {
    let bad = || ApiError::bad_request("invalid continue token: list again without it");
    if !token.len().is_multiple_of(2) || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let bytes: std::result::Result<Vec<u8>, _> = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&token[i..i + 2], 16))
        .collect();
    let key = String::from_utf8(bytes.map_err(|_| bad())?).map_err(|_| bad())?;
    if !key.starts_with(prefix) {
        return Err(bad());
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::Resource;
    use proto::k8s::{Pod, PodSpec, PodStatus};

    fn pod(node: &str, phase: &str) -> Object {
        let mut p = Pod {
            spec: Some(PodSpec {
                node_name: node.into(),
                ..Default::default()
            }),
            status: Some(PodStatus {
                phase: phase.into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        p.meta_mut().name = "p".into();
        p.into_object()
    }

    /// The write paths' futures live in the callers' frames, so their size is paid on a
    /// worker's stack. Debug builds of in-process tests overflowed tokio's 2 MiB test
    /// stack when admission steps grew them (each step is boxed since): this keeps the
    /// next inline addition from passing unnoticed.
    #[test]
    fn write_futures_stay_small() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            crate::store::sled_store::SledStore::open(dir.path(), Default::default()).unwrap();
        let r = Registry::new(Arc::new(store));
        let sizes = [
            (
                "create",
                std::mem::size_of_val(&r.create(pod("", ""), false)),
            ),
            (
                "update",
                std::mem::size_of_val(&r.update(pod("", ""), "", false)),
            ),
            (
                "patch",
                std::mem::size_of_val(&r.patch(&PatchRequest::default())),
            ),
            (
                "delete",
                std::mem::size_of_val(&r.delete(&DeleteRequest::default())),
            ),
        ];
        // Debug build at this writing: create 8.5 KiB, update 18.7, patch 15.4, delete 8.5.
        for (what, size) in sizes {
            assert!(size < 32 * 1024, "{what}'s future is {size} bytes");
        }
    }

    #[test]
    fn unbound_or_finished_pods_go_at_once() {
        assert_eq!(
            plan_deletion(&pod("", "Pending"), Propagation::Background, None),
            DeletionPlan::Now
        );
        assert_eq!(
            plan_deletion(&pod("n1", "Succeeded"), Propagation::Background, None),
            DeletionPlan::Now
        );
        assert_eq!(
            plan_deletion(&pod("n1", "Running"), Propagation::Background, Some(0)),
            DeletionPlan::Now
        );
    }

    #[test]
    fn bound_pods_get_a_grace_period_that_only_shrinks() {
        let DeletionPlan::Mark(marked) =
            plan_deletion(&pod("n1", "Running"), Propagation::Background, None)
        else {
            panic!("a running bound pod must be marked, not removed");
        };
        assert_eq!(marked.meta().deletion_grace_period_seconds, Some(30));
        assert!(!marked.meta().deletion_timestamp.is_empty());
        let DeletionPlan::Mark(again) = plan_deletion(&marked, Propagation::Background, Some(60))
        else {
            panic!("still marked");
        };
        assert_eq!(again.meta().deletion_grace_period_seconds, Some(30));
        let DeletionPlan::Mark(shorter) = plan_deletion(&marked, Propagation::Background, Some(5))
        else {
            panic!("still marked");
        };
        assert_eq!(shorter.meta().deletion_grace_period_seconds, Some(5));
    }

    #[test]
    fn a_graceful_pod_with_finalizers_goes_once_its_kubelet_and_finalizers_are_done() {
        let mut p = pod("n1", "Running");
        p.meta_mut().finalizers.push("example.com/hold".into());
        let DeletionPlan::Mark(marked) = plan_deletion(&p, Propagation::Background, None) else {
            panic!("graceful");
        };
        assert_eq!(marked.meta().deletion_grace_period_seconds, Some(30));
        // The kubelet's final delete with grace 0 leaves only the finalizer to wait for.
        let DeletionPlan::Mark(waiting) = plan_deletion(&marked, Propagation::Background, Some(0))
        else {
            panic!("finalizer still holds it");
        };
        assert_eq!(waiting.meta().deletion_grace_period_seconds, Some(0));
        assert!(!finalized(&waiting));
        let mut done = waiting.clone();
        done.meta_mut().finalizers.clear();
        assert!(finalized(&done));
        // Without that final delete, removing the finalizer does not cut the grace short.
        let mut early = marked.clone();
        early.meta_mut().finalizers.clear();
        assert!(!finalized(&early));
    }

    #[test]
    fn namespaces_go_once_finalized() {
        let mut ns = proto::k8s::Namespace::default();
        ns.meta_mut().name = "team".into();
        ns.spec = Some(proto::k8s::NamespaceSpec {
            finalizers: vec!["kubernetes".into()],
        });
        let DeletionPlan::Mark(terminating) =
            plan_deletion(&ns.into_object(), Propagation::Background, None)
        else {
            panic!("namespaces turn Terminating first");
        };
        assert!(!finalized(&terminating));
        let DeletionPlan::Mark(_) = plan_deletion(&terminating, Propagation::Background, None)
        else {
            panic!("still held by spec.finalizers");
        };
        let mut emptied = terminating.clone();
        if let Some(K::Namespace(n)) = &mut emptied.kind {
            n.spec.as_mut().unwrap().finalizers.clear();
        }
        assert!(finalized(&emptied));
        assert_eq!(
            plan_deletion(&emptied, Propagation::Background, None),
            DeletionPlan::Now
        );
    }

    #[test]
    fn finalizers_hold_objects_and_propagation_adds_its_own() {
        let mut cm = proto::k8s::ConfigMap::default();
        cm.meta_mut().name = "c".into();
        let obj = cm.clone().into_object();
        assert_eq!(
            plan_deletion(&obj, Propagation::Background, None),
            DeletionPlan::Now
        );
        let DeletionPlan::Mark(m) = plan_deletion(&obj, Propagation::Foreground, None) else {
            panic!("foreground deletion marks");
        };
        assert_eq!(m.meta().finalizers, vec![FOREGROUND_FINALIZER.to_string()]);
        assert!(!m.meta().deletion_timestamp.is_empty());
        cm.meta_mut().finalizers.push("example.com/hold".into());
        let DeletionPlan::Mark(m) = plan_deletion(&cm.into_object(), Propagation::Orphan, None)
        else {
            panic!("finalizers hold");
        };
        assert_eq!(m.meta().finalizers.len(), 2);
        assert!(finalized(&{
            let mut x = m.clone();
            x.meta_mut().finalizers.clear();
            x
        }));
    }

    #[test]
    fn an_oversized_list_ends_its_page_or_is_refused_when_unpaged() {
        assert_eq!(list_budget(100, 100, false), ListBudget::Within);
        assert_eq!(list_budget(101, 100, true), ListBudget::EndPage);
        assert_eq!(list_budget(101, 100, false), ListBudget::Refuse);
        // 0: no cap.
        assert_eq!(list_budget(u64::MAX, 0, false), ListBudget::Within);
        let e = list_too_large(&proto::resource::info::Pod, 100);
        assert_eq!(e.reason, Reason::TooLarge);
        assert!(!e.message.contains('\n'));
        assert!(e.message.contains("limit and continue"), "{}", e.message);
    }

    #[test]
    fn continue_tokens_round_trip_and_stay_in_their_prefix() {
        let t = encode_continue("/registry/pods/default/web-1");
        assert_eq!(
            decode_continue(&t, "/registry/pods/default/").unwrap(),
            "/registry/pods/default/web-1"
        );
        assert!(decode_continue(&t, "/registry/secrets/").is_err());
        assert!(decode_continue("zz", "/").is_err());
        assert!(decode_continue("abc", "/").is_err());
        assert!(
            decode_continue("aéa", "/").is_err(),
            "non-ASCII must not split a character"
        );
    }

    #[test]
    fn generated_names_keep_the_prefix() {
        let n = generated_name("web-");
        assert!(n.starts_with("web-") && n.len() == 9);
        assert_ne!(generated_name("web-"), generated_name("web-"));
    }
}
