//! OpenAPI documents generated from `proto::schema`: `/openapi/v2` (Swagger 2.0, the whole
//! API) and `/openapi/v3` (an index) with `/openapi/v3/api/v1`, `/openapi/v3/apis/{g}/{v}`
//! (one document per group-version, every schema it references included). Definition names,
//! required fields and int-or-string/quantity/time types are Kubernetes' (schema facts);
//! descriptions are the proto comments; patch metadata comes from `proto::patch_meta`.
//! kubectl reads these for `explain`, for strategic-merge metadata in client-side `apply`,
//! and to learn that the server validates fields (`fieldValidation` on PATCH).

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::OnceLock;

use proto::KindInfo;
use proto::resource::ALL_KINDS;
use proto::schema::{self, FieldKind, FieldSchema, MessageSchema, Special};
use serde_json::{Map, Value, json};

use super::HttpResponse;

mod v2_proto;

const V2_PROTOBUF: &str = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
/// What Kubernetes answers it with: Go's mime parser refuses the `@` of the Accept form.
const V2_PROTOBUF_RESPONSE: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

const META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1";
const PATCH_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    V2,
    V3,
}

impl Flavor {
    fn reference(self, definition: &str) -> String {
        match self {
            Flavor::V2 => format!("#/definitions/{definition}"),
            Flavor::V3 => format!("#/components/schemas/{definition}"),
        }
    }
}

/// Definitions being collected for one document.
struct Definitions {
    flavor: Flavor,
    defs: BTreeMap<String, Value>,
}

impl Definitions {
    fn new(flavor: Flavor) -> Self {
        Definitions {
            flavor,
            defs: BTreeMap::new(),
        }
    }

    /// A reference to a definition, as a field's schema (v3 wraps it in `allOf` so the
    /// field's own description stays beside it, as Kubernetes does).
    fn field_ref(&self, definition: &str, description: &str) -> Value {
        let r = json!({"$ref": self.flavor.reference(definition)});
        let mut v = match self.flavor {
            Flavor::V2 => r,
            Flavor::V3 => json!({"allOf": [r], "default": {}}),
        };
        if !description.is_empty() {
            v["description"] = Value::from(description);
        }
        v
    }

    fn item_ref(&self, definition: &str) -> Value {
        let r = json!({"$ref": self.flavor.reference(definition)});
        match self.flavor {
            Flavor::V2 => r,
            Flavor::V3 => json!({"allOf": [r], "default": {}}),
        }
    }

    /// The definition of a special type, added once.
    fn special(&mut self, special: Special) -> &'static str {
        let (name, def) = match special {
            Special::IntOrString => (
                "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
                json!({"description": "IntOrString is a type that can hold an int32 or a string.", "type": "string", "format": "int-or-string"}),
            ),
            Special::Quantity => (
                "io.k8s.apimachinery.pkg.api.resource.Quantity",
                json!({"description": "Quantity is a fixed-point representation of a number (\"500m\", \"128Mi\", \"2\").", "type": "string"}),
            ),
            Special::Time => (
                "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
                json!({"description": "Time is a timestamp in RFC 3339 form, in UTC.", "type": "string", "format": "date-time"}),
            ),
            Special::MicroTime => (
                "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime",
                json!({"description": "MicroTime is a timestamp with microseconds, in RFC 3339 form.", "type": "string", "format": "date-time"}),
            ),
        };
        self.defs.entry(name.to_string()).or_insert(def);
        name
    }

    /// Adds a message's definition (and every definition it references); returns its name.
    fn message(&mut self, m: &'static MessageSchema) -> String {
        let name = definition_name(m);
        if self.defs.contains_key(&name) {
            return name;
        }
        // Placeholder first: messages may refer to themselves (JSONSchemaProps-like trees).
        self.defs.insert(name.clone(), Value::Null);
        let mut properties = Map::new();
        // Raw JSON kept as text (FieldsV1, RawExtension): any object, as Kubernetes
        // documents them; their `raw` field is not what clients send.
        let raw_json = matches!(m.full_name.as_str(), "k8s.FieldsV1" | "k8s.RawExtension");
        for f in m.fields.iter().filter(|_| !raw_json) {
            let schema = self.field(m, f);
            properties.insert(f.json_name.clone(), schema);
        }
        let mut def = match raw_json {
            true => json!({"type": "object"}),
            false => json!({"type": "object", "properties": properties}),
        };
        let description = if m.description.is_empty() {
            default_message_description(m)
        } else {
            m.description.clone()
        };
        if !description.is_empty() {
            def["description"] = Value::from(description);
        }
        let required: Vec<&str> = super::versions::required(m)
            .iter()
            .copied()
            .filter(|r| m.field(r).is_some())
            .collect();
        if !required.is_empty() {
            def["required"] = json!(required);
        }
        if let Some(k) = kind_of_message(m) {
            def["x-kubernetes-group-version-kind"] = json!([gvk(k.group, k.version, k.kind)]);
        }
        if m.full_name == "k8s.Scale" {
            def["x-kubernetes-group-version-kind"] = json!([gvk("autoscaling", "v1", "Scale")]);
        }
        self.defs.insert(name.clone(), def);
        name
    }

    fn field(&mut self, m: &MessageSchema, f: &FieldSchema) -> Value {
        let description = if f.description.is_empty() {
            default_field_description(&f.json_name)
        } else {
            f.description.clone()
        };
        let special = schema::special(&m.full_name, &f.json_name);
        let mut v = match &f.kind {
            FieldKind::Map(inner) => {
                let item = self.scalar_or_ref(inner, special);
                let mut v = json!({"type": "object", "additionalProperties": item});
                if !description.is_empty() {
                    v["description"] = Value::from(description.clone());
                }
                v
            }
            kind if f.repeated => {
                let item = self.scalar_or_ref(kind, special);
                let mut v = json!({"type": "array", "items": item});
                if !description.is_empty() {
                    v["description"] = Value::from(description.clone());
                }
                v
            }
            kind => match (kind, special) {
                (FieldKind::Message(name), _) if name == "k8s.ExtraValue" => {
                    json!({"type": "array", "items": {"type": "string"}, "description": description})
                }
                (FieldKind::Message(name), _) => match schema::message(name) {
                    Some(inner) => {
                        let def = self.message(inner);
                        self.field_ref(&def, &description)
                    }
                    None => json!({"type": "object", "description": description}),
                },
                (_, Some(s)) => {
                    let def = self.special(s);
                    self.field_ref(def, &description)
                }
                (kind, None) => {
                    let mut v = scalar(kind);
                    if !description.is_empty() {
                        v["description"] = Value::from(description.clone());
                    }
                    v
                }
            },
        };
        if let Some(meta) = proto::patch_meta::field(&m.full_name, &f.json_name) {
            let strategy = meta.strategy.as_str();
            if !strategy.is_empty() {
                v["x-kubernetes-patch-strategy"] = Value::from(strategy);
            }
            if let Some(key) = meta.merge_key {
                v["x-kubernetes-patch-merge-key"] = Value::from(key);
            }
            if let Some(t) = meta.list_type {
                v["x-kubernetes-list-type"] = Value::from(t);
            }
            if !meta.list_map_keys.is_empty() {
                v["x-kubernetes-list-map-keys"] = json!(meta.list_map_keys);
            }
        }
        v
    }

    /// The schema of a list item or map value.
    fn scalar_or_ref(&mut self, kind: &FieldKind, special: Option<Special>) -> Value {
        match (kind, special) {
            (FieldKind::Message(name), _) if name == "k8s.ExtraValue" => {
                json!({"type": "array", "items": {"type": "string"}})
            }
            (FieldKind::Message(name), _) => match schema::message(name) {
                Some(inner) => {
                    let def = self.message(inner);
                    self.item_ref(&def)
                }
                None => json!({"type": "object"}),
            },
            (_, Some(s)) => {
                let def = self.special(s);
                self.item_ref(def)
            }
            (kind, None) => scalar(kind),
        }
    }

    /// A fixed definition (meta types that are not messages of ours), added once.
    fn fixed(&mut self, name: &str) -> String {
        let full = format!("{META}.{name}");
        if self.defs.contains_key(&full) {
            return full;
        }
        let def = match name {
            "ListMeta" => json!({
                "description": "ListMeta describes metadata that synthetic resources must have, including lists.",
                "type": "object",
                "properties": {
                    "continue": {"type": "string", "description": "continue may be set if the user set a limit on the number of items returned."},
                    "remainingItemCount": {"type": "integer", "format": "int64", "description": "The number of subsequent items in the list which are not included in this list response."},
                    "resourceVersion": {"type": "string", "description": "The server's internal version of this list."},
                    "selfLink": {"type": "string", "description": "Deprecated."},
                },
            }),
            "Status" => {
                let details = self.fixed("StatusDetails");
                let list_meta = self.fixed("ListMeta");
                json!({
                    "description": "Status is a return value for calls that don't return other objects.",
                    "type": "object",
                    "properties": {
                        "apiVersion": {"type": "string"},
                        "code": {"type": "integer", "format": "int32", "description": "Suggested HTTP return code for this status, 0 if not set."},
                        "details": self.field_ref(&details, "Extended data associated with the reason."),
                        "kind": {"type": "string"},
                        "message": {"type": "string", "description": "A human-readable description of the status of this operation."},
                        "metadata": self.field_ref(&list_meta, "Standard list metadata."),
                        "reason": {"type": "string", "description": "A machine-readable description of why this operation is in the \"Failure\" status."},
                        "status": {"type": "string", "description": "Status of the operation. One of: \"Success\" or \"Failure\"."},
                    },
                    "x-kubernetes-group-version-kind": [gvk("", "v1", "Status")],
                })
            }
            "StatusDetails" => {
                let cause = self.fixed("StatusCause");
                json!({
                    "description": "StatusDetails is a set of additional properties that MAY be set by the server to provide additional information about a response.",
                    "type": "object",
                    "properties": {
                        "causes": {"type": "array", "items": self.item_ref(&cause)},
                        "group": {"type": "string"},
                        "kind": {"type": "string"},
                        "name": {"type": "string"},
                        "retryAfterSeconds": {"type": "integer", "format": "int32"},
                        "uid": {"type": "string"},
                    },
                })
            }
            "StatusCause" => json!({
                "description": "StatusCause provides more information about an api.Status failure.",
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "reason": {"type": "string"},
                },
            }),
            "Preconditions" => json!({
                "description": "Preconditions must be fulfilled before an operation (update, delete, etc.) is carried out.",
                "type": "object",
                "properties": {"resourceVersion": {"type": "string"}, "uid": {"type": "string"}},
            }),
            "DeleteOptions" => {
                let pre = self.fixed("Preconditions");
                json!({
                    "description": "DeleteOptions may be provided when deleting an API object.",
                    "type": "object",
                    "properties": {
                        "apiVersion": {"type": "string"},
                        "dryRun": {"type": "array", "items": {"type": "string"}},
                        "gracePeriodSeconds": {"type": "integer", "format": "int64"},
                        "kind": {"type": "string"},
                        "orphanDependents": {"type": "boolean"},
                        "preconditions": self.field_ref(&pre, "Must be fulfilled before a deletion is carried out."),
                        "propagationPolicy": {"type": "string"},
                    },
                    "x-kubernetes-group-version-kind": [gvk("", "v1", "DeleteOptions")],
                })
            }
            "Patch" => json!({
                "description": "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.",
                "type": "object",
            }),
            "WatchEvent" => json!({
                "type": "object",
                "required": ["type", "object"],
                "properties": {
                    "object": {"type": "object", "description": "The object: the changed object for ADDED, MODIFIED, DELETED, BOOKMARK; a Status for ERROR."},
                    "type": {"type": "string"},
                },
                "x-kubernetes-group-version-kind": [gvk("", "v1", "WatchEvent")],
            }),
            _ => json!({"type": "object"}),
        };
        self.defs.insert(full.clone(), def);
        full
    }

    /// `<Kind>List` of a kind.
    fn list(&mut self, k: &'static KindInfo) -> String {
        let item = self.message(super::versions::kind_schema(k));
        let name = format!("{item}List");
        if self.defs.contains_key(&name) {
            return name;
        }
        let list_meta = self.fixed("ListMeta");
        let def = json!({
            "description": format!("{}List is a list of {}.", k.kind, k.kind),
            "type": "object",
            "required": ["items"],
            "properties": {
                "apiVersion": {"type": "string", "description": default_field_description("apiVersion")},
                "items": {"type": "array", "items": self.item_ref(&item), "description": format!("List of {}.", k.plural)},
                "kind": {"type": "string", "description": default_field_description("kind")},
                "metadata": self.field_ref(&list_meta, "Standard list metadata."),
            },
            "x-kubernetes-group-version-kind": [gvk(k.group, k.version, &format!("{}List", k.kind))],
        });
        self.defs.insert(name.clone(), def);
        name
    }
}

fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!({"group": group, "kind": kind, "version": version})
}

fn scalar(kind: &FieldKind) -> Value {
    match kind {
        FieldKind::Bool => json!({"type": "boolean"}),
        FieldKind::Int32 => json!({"type": "integer", "format": "int32"}),
        FieldKind::Int64 | FieldKind::UInt64 => json!({"type": "integer", "format": "int64"}),
        FieldKind::Double => json!({"type": "number", "format": "double"}),
        FieldKind::Bytes => json!({"type": "string", "format": "byte"}),
        _ => json!({"type": "string"}),
    }
}

/// Kubernetes' definition name of a message, or one under this project's prefix.
fn definition_name(m: &MessageSchema) -> String {
    let definition = m
        .definition_name()
        .or_else(|| proto::convert::definition(&m.full_name).map(|(d, _)| d));
    definition.map(str::to_string).unwrap_or_else(|| {
        format!(
            "io.rkube.api.{}",
            m.full_name.strip_prefix("k8s.").unwrap_or(&m.full_name)
        )
    })
}

fn kind_of_message(m: &MessageSchema) -> Option<&'static KindInfo> {
    let kind = m.full_name.strip_prefix("k8s.")?;
    ALL_KINDS
        .iter()
        .copied()
        .find(|k| k.kind == kind)
        .or_else(|| proto::convert::by_message(&m.full_name).map(|v| v.info))
}

/// Descriptions for the fields every kind has, where the proto carries no comment.
fn default_field_description(json_name: &str) -> String {
    match json_name {
        "apiVersion" => {
            "APIVersion defines the versioned schema of this representation of an object."
        }
        "kind" => "Kind is a string value representing the REST resource this object represents.",
        "metadata" => "Standard object's metadata.",
        "spec" => "The desired behavior of this object.",
        "status" => {
            "The most recently observed status of this object. Read-only: written by the system."
        }
        _ => "",
    }
    .to_string()
}

fn default_message_description(m: &MessageSchema) -> String {
    match kind_of_message(m) {
        Some(k) => format!("{} ({}).", k.kind, k.api_version),
        None => String::new(),
    }
}

// ---------------------------------------------------------------------------------------
// Paths

struct Param {
    name: &'static str,
    ty: &'static str,
    description: &'static str,
}

const fn p(name: &'static str, ty: &'static str, description: &'static str) -> Param {
    Param {
        name,
        ty,
        description,
    }
}

const LIST_PARAMS: &[Param] = &[
    p(
        "allowWatchBookmarks",
        "boolean",
        "allowWatchBookmarks requests watch events with type \"BOOKMARK\".",
    ),
    p(
        "continue",
        "string",
        "The continue option should be set when retrieving more results from the server.",
    ),
    p(
        "fieldSelector",
        "string",
        "A selector to restrict the list of returned objects by their fields.",
    ),
    p(
        "labelSelector",
        "string",
        "A selector to restrict the list of returned objects by their labels.",
    ),
    p(
        "limit",
        "integer",
        "limit is a maximum number of responses to return for a list call.",
    ),
    p(
        "resourceVersion",
        "string",
        "resourceVersion sets a constraint on what resource versions a request may be served from.",
    ),
    p(
        "resourceVersionMatch",
        "string",
        "resourceVersionMatch determines how resourceVersion is applied to list calls.",
    ),
    p(
        "sendInitialEvents",
        "boolean",
        "sendInitialEvents=true may be set together with watch=true to begin the watch stream with the current state.",
    ),
    p(
        "timeoutSeconds",
        "integer",
        "Timeout for the list/watch call.",
    ),
    p(
        "watch",
        "boolean",
        "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.",
    ),
];
const WRITE_PARAMS: &[Param] = &[
    p(
        "dryRun",
        "string",
        "When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed",
    ),
    p(
        "fieldManager",
        "string",
        "fieldManager is a name associated with the actor or entity that is making these changes.",
    ),
    p(
        "fieldValidation",
        "string",
        "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: - Ignore - Warn (the default) - Strict",
    ),
];
const FORCE: Param = p(
    "force",
    "boolean",
    "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people.",
);
const DELETE_PARAMS: &[Param] = &[
    p(
        "dryRun",
        "string",
        "When present, indicates that modifications should not be persisted.",
    ),
    p(
        "gracePeriodSeconds",
        "integer",
        "The duration in seconds before the object should be deleted.",
    ),
    p(
        "orphanDependents",
        "boolean",
        "Deprecated: please use the PropagationPolicy.",
    ),
    p(
        "propagationPolicy",
        "string",
        "Whether and how garbage collection will be performed: 'Orphan', 'Background' or 'Foreground'.",
    ),
];

fn param_json(flavor: Flavor, param: &Param, location: &str) -> Value {
    let mut v = json!({"name": param.name, "in": location, "description": param.description});
    let ty = json!({"type": param.ty, "uniqueItems": true});
    match flavor {
        Flavor::V2 => {
            v["type"] = Value::from(param.ty);
            v["uniqueItems"] = Value::Bool(true);
        }
        Flavor::V3 => v["schema"] = ty,
    }
    if location == "path" {
        v["required"] = Value::Bool(true);
    }
    v
}

/// The camel-case group of operation ids (`""` -> `Core`, `rbac.authorization.k8s.io` ->
/// `RbacAuthorization`).
fn op_group(group: &str, version: &str) -> String {
    let base = if group.is_empty() {
        "core".to_string()
    } else {
        group.trim_end_matches(".k8s.io").to_string()
    };
    let mut out = String::new();
    for part in base.split('.') {
        let mut chars = part.chars();
        if let Some(c) = chars.next() {
            out.push(c.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    let mut v = version.chars();
    if let Some(c) = v.next() {
        out.push(c.to_ascii_uppercase());
        out.extend(v);
    }
    out
}

struct Operation<'a> {
    action: &'static str,
    verb: &'static str,
    id: String,
    description: String,
    gvk: (&'a str, &'a str, &'a str),
    params: Vec<Value>,
    response: String,
    body: Option<String>,
    created: bool,
}

fn operation(flavor: Flavor, op: Operation) -> Value {
    let response_ref = json!({"$ref": flavor.reference(&op.response)});
    let mut params = op.params;
    let ok = |description: &str| match flavor {
        Flavor::V2 => json!({"description": description, "schema": response_ref}),
        Flavor::V3 => json!({"description": description, "content": {
            "application/json": {"schema": response_ref},
            "application/yaml": {"schema": response_ref},
        }}),
    };
    let mut responses = json!({"200": ok("OK"), "401": {"description": "Unauthorized"}});
    if op.created {
        responses["201"] = ok("Created");
    }
    let mut v = json!({
        "description": op.description,
        "operationId": op.id,
        "tags": [op.gvk.0],
        "responses": responses,
        "x-kubernetes-action": op.action,
        "x-kubernetes-group-version-kind": gvk(op.gvk.0, op.gvk.1, op.gvk.2),
    });
    if let Some(body) = op.body {
        let body_ref = json!({"$ref": flavor.reference(&body)});
        let types: Vec<&str> = if op.verb == "patch" {
            PATCH_TYPES.to_vec()
        } else {
            vec!["*/*"]
        };
        match flavor {
            Flavor::V2 => {
                params.insert(
                    0,
                    json!({"name": "body", "in": "body", "required": true, "schema": body_ref}),
                );
                v["consumes"] = json!(types);
            }
            Flavor::V3 => {
                let content: Map<String, Value> = types
                    .iter()
                    .map(|t| (t.to_string(), json!({"schema": body_ref})))
                    .collect();
                v["requestBody"] = json!({"content": content, "required": op.verb != "delete"});
            }
        }
    }
    if flavor == Flavor::V2 {
        v["produces"] = json!(["application/json", "application/yaml"]);
        v["schemes"] = json!(["https"]);
    }
    if !params.is_empty() {
        v["parameters"] = Value::Array(params);
    }
    v
}

/// The paths of one kind: collection, item, and the status and scale subresources.
fn kind_paths(
    flavor: Flavor,
    defs: &mut Definitions,
    k: &'static KindInfo,
    out: &mut Map<String, Value>,
) {
    let prefix = if k.group.is_empty() {
        format!("/api/{}", k.version)
    } else {
        format!("/apis/{}/{}", k.group, k.version)
    };
    let scope = if k.namespaced {
        format!("{prefix}/namespaces/{{namespace}}/{}", k.plural)
    } else {
        format!("{prefix}/{}", k.plural)
    };
    let group = op_group(k.group, k.version);
    let ns = if k.namespaced { "Namespaced" } else { "" };
    let kind_def = defs.message(super::versions::kind_schema(k));
    let list_def = defs.list(k);
    let status_def = defs.fixed("Status");
    let delete_options = defs.fixed("DeleteOptions");
    let patch_def = defs.fixed("Patch");
    let gvk_tuple = (k.group, k.version, k.kind);
    let q = |list: &[Param]| -> Vec<Value> {
        list.iter()
            .map(|x| param_json(flavor, x, "query"))
            .collect()
    };
    let path_params = |name: bool| -> Vec<Value> {
        let mut v = Vec::new();
        if name {
            v.push(param_json(
                flavor,
                &p("name", "string", "name of the object"),
                "path",
            ));
        }
        if k.namespaced {
            v.push(param_json(
                flavor,
                &p(
                    "namespace",
                    "string",
                    "object name and auth scope, such as for teams and projects",
                ),
                "path",
            ));
        }
        v.push(param_json(
            flavor,
            &p(
                "pretty",
                "string",
                "If 'true', then the output is pretty printed.",
            ),
            "query",
        ));
        v
    };
    let op = |action: &'static str,
              verb: &'static str,
              id: String,
              description: String,
              params: Vec<Value>,
              response: &str,
              body: Option<&str>,
              created: bool| {
        operation(
            flavor,
            Operation {
                action,
                verb,
                id,
                description,
                gvk: gvk_tuple,
                params,
                response: response.to_string(),
                body: body.map(str::to_string),
                created,
            },
        )
    };
    let mut write = q(WRITE_PARAMS);
    let mut patch_params = q(WRITE_PARAMS);
    patch_params.push(param_json(flavor, &FORCE, "query"));
    let mut deletecollection = q(DELETE_PARAMS);
    deletecollection.extend(q(LIST_PARAMS));

    let mut collection = Map::new();
    collection.insert(
        "get".into(),
        op(
            "list",
            "list",
            format!("list{group}{ns}{}", k.kind),
            format!("list or watch objects of kind {}", k.kind),
            q(LIST_PARAMS),
            &list_def,
            None,
            false,
        ),
    );
    collection.insert(
        "post".into(),
        op(
            "post",
            "create",
            format!("create{group}{ns}{}", k.kind),
            format!("create a {}", k.kind),
            std::mem::take(&mut write),
            &kind_def,
            Some(&kind_def),
            true,
        ),
    );
    collection.insert(
        "delete".into(),
        op(
            "deletecollection",
            "delete",
            format!("deletecollection{group}{ns}{}", k.kind),
            format!("delete collection of {}", k.kind),
            deletecollection,
            &status_def,
            Some(&delete_options),
            false,
        ),
    );
    collection.insert("parameters".into(), Value::Array(path_params(false)));
    out.insert(scope.clone(), Value::Object(collection));

    let mut item = Map::new();
    item.insert(
        "get".into(),
        op(
            "get",
            "get",
            format!("read{group}{ns}{}", k.kind),
            format!("read the specified {}", k.kind),
            Vec::new(),
            &kind_def,
            None,
            false,
        ),
    );
    item.insert(
        "put".into(),
        op(
            "put",
            "update",
            format!("replace{group}{ns}{}", k.kind),
            format!("replace the specified {}", k.kind),
            q(WRITE_PARAMS),
            &kind_def,
            Some(&kind_def),
            true,
        ),
    );
    item.insert(
        "patch".into(),
        op(
            "patch",
            "patch",
            format!("patch{group}{ns}{}", k.kind),
            format!("partially update the specified {}", k.kind),
            patch_params.clone(),
            &kind_def,
            Some(&patch_def),
            true,
        ),
    );
    item.insert(
        "delete".into(),
        op(
            "delete",
            "delete",
            format!("delete{group}{ns}{}", k.kind),
            format!("delete a {}", k.kind),
            q(DELETE_PARAMS),
            &status_def,
            Some(&delete_options),
            false,
        ),
    );
    item.insert("parameters".into(), Value::Array(path_params(true)));
    out.insert(format!("{scope}/{{name}}"), Value::Object(item));

    let mut subresource =
        |name: &str,
         op_suffix: &str,
         def: &str,
         gvk: (&'static str, &'static str, &'static str)| {
            let o = |action: &'static str,
                     verb: &'static str,
                     id: String,
                     description: String,
                     params: Vec<Value>,
                     body: Option<&str>,
                     created: bool| {
                operation(
                    flavor,
                    Operation {
                        action,
                        verb,
                        id,
                        description,
                        gvk,
                        params,
                        response: def.to_string(),
                        body: body.map(str::to_string),
                        created,
                    },
                )
            };
            let mut m = Map::new();
            m.insert(
                "get".into(),
                o(
                    "get",
                    "get",
                    format!("read{group}{ns}{}{op_suffix}", k.kind),
                    format!("read {name} of the specified {}", k.kind),
                    Vec::new(),
                    None,
                    false,
                ),
            );
            m.insert(
                "put".into(),
                o(
                    "put",
                    "update",
                    format!("replace{group}{ns}{}{op_suffix}", k.kind),
                    format!("replace {name} of the specified {}", k.kind),
                    q(WRITE_PARAMS),
                    Some(def),
                    true,
                ),
            );
            m.insert(
                "patch".into(),
                o(
                    "patch",
                    "patch",
                    format!("patch{group}{ns}{}{op_suffix}", k.kind),
                    format!("partially update {name} of the specified {}", k.kind),
                    patch_params.clone(),
                    Some(&patch_def),
                    true,
                ),
            );
            m.insert("parameters".into(), Value::Array(path_params(true)));
            out.insert(format!("{scope}/{{name}}/{name}"), Value::Object(m));
        };
    if k.has_status {
        subresource("status", "Status", &kind_def, gvk_tuple);
    }
    if k.has_scale {
        let scale =
            defs.message(schema::message("k8s.Scale").unwrap_or_else(|| schema::kind_message(k)));
        subresource("scale", "Scale", &scale, ("autoscaling", "v1", "Scale"));
    }
    if k.namespaced {
        // Across all namespaces: list only.
        let mut all = Map::new();
        all.insert(
            "get".into(),
            op(
                "list",
                "list",
                format!("list{group}{}ForAllNamespaces", k.kind),
                format!("list or watch objects of kind {}", k.kind),
                q(LIST_PARAMS),
                &list_def,
                None,
                false,
            ),
        );
        out.insert(format!("{prefix}/{}", k.plural), Value::Object(all));
    }
}

// ---------------------------------------------------------------------------------------
// Documents

/// The group-versions that have kinds, as `(group, version)`, in registry order.
fn group_versions() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&'static str, &'static str)> = Vec::new();
    for k in super::versions::served_kinds() {
        if !out.contains(&(k.group, k.version)) {
            out.push((k.group, k.version));
        }
    }
    out
}

fn info() -> Value {
    json!({"title": "Kubernetes", "version": format!("v1.{}.0", super::health::KUBERNETES_MINOR)})
}

/// The Swagger 2.0 document of the whole API.
pub(crate) fn v2_document() -> Value {
    let mut defs = Definitions::new(Flavor::V2);
    let mut paths = Map::new();
    for k in super::versions::served_kinds() {
        kind_paths(Flavor::V2, &mut defs, k, &mut paths);
    }
    defs.fixed("WatchEvent");
    json!({
        "swagger": "2.0",
        "info": info(),
        "paths": paths,
        "definitions": defs.defs,
    })
}

/// The OpenAPI 3.0 document of one group-version (`""` for the core group), if served.
pub(crate) fn v3_document(group: &str, version: &str) -> Option<Value> {
    let kinds: Vec<&'static KindInfo> = super::versions::served_kinds()
        .filter(|k| k.group == group && k.version == version)
        .collect();
    if kinds.is_empty() {
        return None;
    }
    let mut defs = Definitions::new(Flavor::V3);
    let mut paths = Map::new();
    for k in kinds {
        kind_paths(Flavor::V3, &mut defs, k, &mut paths);
    }
    defs.fixed("WatchEvent");
    Some(json!({
        "openapi": "3.0.0",
        "info": info(),
        "paths": paths,
        "components": {"schemas": defs.defs},
    }))
}

/// Serialized documents, generated once: `(index key, document bytes, hash)`.
struct Cache {
    v2: Vec<u8>,
    v2_protobuf: Vec<u8>,
    v3: Vec<(String, Vec<u8>, String)>,
}

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(|| {
        let v3 = group_versions()
            .into_iter()
            .filter_map(|(g, v)| {
                let doc = v3_document(g, v)?;
                let bytes = serde_json::to_vec(&doc).ok()?;
                let key = if g.is_empty() {
                    format!("api/{v}")
                } else {
                    format!("apis/{g}/{v}")
                };
                let hash = hash_of(&bytes);
                Some((key, bytes, hash))
            })
            .collect();
        let v2 = v2_document();
        Cache {
            v2_protobuf: v2_proto::encode(&v2),
            v2: serde_json::to_vec(&v2).unwrap_or_default(),
            v3,
        }
    })
}

fn hash_of(bytes: &[u8]) -> String {
    // Only a cache key for clients: stable for one build's documents.
    let mut h = std::hash::DefaultHasher::new();
    bytes.hash(&mut h);
    format!("{:016X}", h.finish())
}

/// `/openapi/v3`: each group-version's document URL with its hash.
pub(crate) fn v3_index() -> Value {
    let paths: Map<String, Value> = cache()
        .v3
        .iter()
        .map(|(key, _, hash)| {
            (
                key.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash={hash}")}),
            )
        })
        .collect();
    json!({"paths": paths})
}

fn bytes_response(bytes: Vec<u8>, content_type: &'static str) -> HttpResponse {
    let mut response = ::http::Response::new(super::Body::from(bytes));
    response.headers_mut().insert(
        ::http::header::CONTENT_TYPE,
        ::http::HeaderValue::from_static(content_type),
    );
    response
}

pub(crate) fn serve(parts: &::http::request::Parts) -> Option<HttpResponse> {
    if !matches!(parts.method, ::http::Method::GET | ::http::Method::HEAD) {
        return None;
    }
    let path = parts.uri.path().trim_end_matches('/');
    if path == "/openapi/v2" {
        // client-go asks for protobuf and can decode nothing else.
        let protobuf = parts
            .headers
            .get_all(::http::header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains(V2_PROTOBUF));
        return Some(if protobuf {
            bytes_response(cache().v2_protobuf.clone(), V2_PROTOBUF_RESPONSE)
        } else {
            bytes_response(cache().v2.clone(), "application/json")
        });
    }
    if path == "/openapi/v3" {
        return Some(super::json_response(::http::StatusCode::OK, &v3_index()));
    }
    let key = path.strip_prefix("/openapi/v3/")?;
    let (_, bytes, _) = cache().v3.iter().find(|(k, _, _)| k == key)?;
    Some(bytes_response(bytes.clone(), "application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve<'a>(doc: &'a Value, reference: &str) -> &'a Value {
        let name = reference.rsplit('/').next().unwrap();
        let schemas = if doc.get("components").is_some() {
            &doc["components"]["schemas"]
        } else {
            &doc["definitions"]
        };
        &schemas[name]
    }

    /// Follows every `$ref` in the document: each must name a definition in it.
    fn check_refs(doc: &Value, v: &Value) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    assert!(resolve(doc, r).is_object(), "dangling {r}");
                }
                m.values().for_each(|x| check_refs(doc, x));
            }
            Value::Array(a) => a.iter().for_each(|x| check_refs(doc, x)),
            _ => {}
        }
    }

    #[test]
    fn v3_apps_has_deployment_with_nested_pod_schemas() {
        let doc = v3_document("apps", "v1").unwrap();
        check_refs(&doc, &doc);
        let schemas = &doc["components"]["schemas"];
        let d = &schemas["io.k8s.api.apps.v1.Deployment"];
        assert_eq!(
            d["x-kubernetes-group-version-kind"],
            json!([{"group": "apps", "kind": "Deployment", "version": "v1"}])
        );
        assert_eq!(
            d["properties"]["metadata"]["allOf"][0]["$ref"],
            "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
        );
        let spec = &schemas["io.k8s.api.core.v1.PodSpec"];
        let containers = &spec["properties"]["containers"];
        assert_eq!(containers["type"], "array");
        assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
        assert_eq!(containers["x-kubernetes-patch-strategy"], "merge");
        assert_eq!(spec["required"], json!(["containers"]));
        let port = &schemas["io.k8s.api.core.v1.ServicePort"];
        assert!(port.is_null(), "apps/v1 does not reference Service");
        let probe = &schemas["io.k8s.api.core.v1.HTTPGetAction"];
        assert_eq!(
            probe["properties"]["port"]["allOf"][0]["$ref"],
            "#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString"
        );
        let resources = &schemas["io.k8s.api.core.v1.ResourceRequirements"];
        assert_eq!(
            resources["properties"]["limits"]["additionalProperties"]["allOf"][0]["$ref"],
            "#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity"
        );
        assert!(schemas["io.k8s.api.apps.v1.DeploymentList"].is_object());
        assert!(schemas["io.k8s.api.autoscaling.v1.Scale"].is_object());
    }

    #[test]
    fn patch_operations_declare_field_validation() {
        for (g, v) in group_versions() {
            let doc = v3_document(g, v).unwrap();
            for (path, item) in doc["paths"].as_object().unwrap() {
                if let Some(patch) = item.get("patch") {
                    let names: Vec<&str> = patch["parameters"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|p| p["in"] == "query")
                        .map(|p| p["name"].as_str().unwrap())
                        .collect();
                    assert!(names.contains(&"fieldValidation"), "{path}");
                    assert!(names.contains(&"dryRun"), "{path}");
                    assert!(patch["x-kubernetes-group-version-kind"].is_object());
                }
            }
        }
        let core = v3_document("", "v1").unwrap();
        let pods = &core["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"];
        assert_eq!(pods["patch"]["operationId"], "patchCoreV1NamespacedPod");
        assert_eq!(pods["get"]["x-kubernetes-action"], "get");
        assert!(core["paths"]["/api/v1/nodes/{name}/status"]["put"].is_object());
        assert!(core["paths"]["/api/v1/pods"]["get"].is_object());
        assert_eq!(
            op_group("rbac.authorization.k8s.io", "v1"),
            "RbacAuthorizationV1"
        );
    }

    #[test]
    fn v2_document_is_whole_and_consistent() {
        let doc = v2_document();
        check_refs(&doc, &doc);
        assert_eq!(doc["swagger"], "2.0");
        let defs = doc["definitions"].as_object().unwrap();
        for k in ALL_KINDS {
            let name = schema::kind_message(k).definition_name().unwrap();
            assert!(defs.contains_key(name), "{name}");
        }
        let pod = &defs["io.k8s.api.core.v1.Pod"];
        assert_eq!(
            pod["properties"]["spec"]["$ref"],
            "#/definitions/io.k8s.api.core.v1.PodSpec"
        );
    }

    #[test]
    fn index_lists_every_group_version_with_a_hash() {
        let index = v3_index();
        let paths = index["paths"].as_object().unwrap();
        assert!(
            paths["api/v1"]["serverRelativeURL"]
                .as_str()
                .unwrap()
                .starts_with("/openapi/v3/api/v1?hash=")
        );
        assert!(paths.contains_key("apis/apps/v1"));
        assert!(paths.contains_key("apis/autoscaling/v2"));
        let (parts, _) = ::http::Request::get("/openapi/v3/apis/apps/v1?hash=x")
            .body(())
            .unwrap()
            .into_parts();
        assert!(serve(&parts).is_some());
        let (parts, _) = ::http::Request::get("/openapi/v3/apis/nothing/v1")
            .body(())
            .unwrap()
            .into_parts();
        assert!(serve(&parts).is_none());
    }
}
