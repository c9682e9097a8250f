#!/usr/bin/env python3
"""Writes fields.rs: the field numbers, names and types of Kubernetes' protobuf messages
(facts from the generated.proto files of k8s.io/api and k8s.io/apimachinery), for the
messages reachable from the kinds the apiserver reads in protobuf request bodies.

Usage: generate.py API_REPO APIMACHINERY_REPO > fields.rs (each a git checkout or a tree
holding the generated.proto files at their usual paths)."""
import os, re, sys

API_DIRS = ["core/v1", "apps/v1", "batch/v1", "autoscaling/v1", "autoscaling/v2",
            "networking/v1", "coordination/v1", "rbac/v1", "certificates/v1",
            "authorization/v1", "authentication/v1", "authentication/v1beta1",
            "authentication/v1alpha1", "policy/v1", "policy/v1beta1"]
AM_DIRS = ["pkg/apis/meta/v1", "pkg/runtime", "pkg/runtime/schema", "pkg/util/intstr",
           "pkg/api/resource"]
ROOTS = {
    "core.v1": ["Namespace", "Node", "Pod", "Service", "Endpoints", "ConfigMap", "Secret",
                "ServiceAccount", "Event", "ResourceQuota", "LimitRange", "PersistentVolume",
                "PersistentVolumeClaim", "Binding"],
    "coordination.v1": ["Lease"],
    "apps.v1": ["ReplicaSet", "Deployment", "DaemonSet", "StatefulSet"],
    "batch.v1": ["Job", "CronJob"],
    "autoscaling.v2": ["HorizontalPodAutoscaler"],
    "autoscaling.v1": ["Scale", "HorizontalPodAutoscaler"],
    "networking.v1": ["Ingress"],
    "rbac.v1": ["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"],
    "certificates.v1": ["CertificateSigningRequest"],
    "authorization.v1": ["SelfSubjectAccessReview", "SubjectAccessReview",
                         "LocalSubjectAccessReview", "SelfSubjectRulesReview"],
    "authentication.v1": ["TokenReview", "SelfSubjectReview", "TokenRequest"],
    "authentication.v1beta1": ["TokenReview", "SelfSubjectReview"],
    "authentication.v1alpha1": ["SelfSubjectReview"],
    "policy.v1": ["Eviction"],
    "policy.v1beta1": ["Eviction"],
}
FIELD = re.compile(r"^\s*(optional|repeated)?\s*(map<\s*(\w+)\s*,\s*([\w.]+)\s*>|[.\w]+)\s+(\w+)\s*=\s*(\d+)\s*;")
SCALARS = {"string", "bytes", "bool", "int32", "int64", "uint32", "uint64", "double", "float",
           "sint32", "sint64", "fixed32", "fixed64", "sfixed32", "sfixed64"}

messages = {}

def parse(path):
    text = open(path).read()
    package = re.search(r"^package ([\w.]+);", text, re.M).group(1)
    current = None
    for line in text.splitlines():
        if line.strip().startswith("//"):
            continue
        m = re.match(r"^message (\w+) \{", line)
        if m:
            current = package + "." + m.group(1)
            messages[current] = []
            continue
        if line.startswith("}"):
            current = None
            continue
        if current is None:
            continue
        f = FIELD.match(line)
        if not f:
            continue
        label, typ, mkey, mval, name, number = f.groups()
        def resolve(t):
            if t in SCALARS:
                return t
            if t.startswith("."):
                return t[1:]
            return package + "." + t
        if mkey:
            messages[current].append((int(number), name, "map", resolve(mkey), resolve(mval)))
        else:
            messages[current].append((int(number), name, "repeated" if label == "repeated" else "single", resolve(typ), ""))

# Go struct tags: fields whose JSON name is not their protobuf name, and embedded structs
# whose fields JSON inlines (`json:""` or `json:",inline"`), by message.
GO_FIELD = re.compile(r'`json:"([^",]*)[^"]*"\s+protobuf:"[^"]*name=(\w+)')
json_names = {}

def parse_go(path, package):
    if not os.path.exists(path):
        return
    current = None
    for line in open(path):
        m = re.match(r"^type (\w+) struct \{", line)
        if m:
            current = package + "." + m.group(1)
            continue
        if line.startswith("}"):
            current = None
            continue
        f = GO_FIELD.search(line)
        if current and f:
            json_names[(current, f.group(2))] = f.group(1)
            continue
        # An embedded struct without a protobuf name: the proto field is its type, lowerCamel.
        e = re.match(r'^\s*(\w+)\s+`json:"(,inline)?"\s+protobuf:', line)
        if current and e:
            go_type = e.group(1)
            json_names[(current, go_type[0].lower() + go_type[1:])] = ""

for d in API_DIRS:
    parse(os.path.join(sys.argv[1], d, "generated.proto"))
    parse_go(os.path.join(sys.argv[1], d, "types.go"), "k8s.io.api." + d.replace("/", "."))
for d in AM_DIRS:
    parse(os.path.join(sys.argv[2], d, "generated.proto"))
    parse_go(os.path.join(sys.argv[2], d, "types.go"), "k8s.io.apimachinery." + d.replace("/", "."))

wanted, todo = set(), []
for group, kinds in ROOTS.items():
    for k in kinds:
        todo.append("k8s.io.api." + group + "." + k)
todo += ["k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions", "k8s.io.apimachinery.pkg.runtime.Unknown"]
while todo:
    name = todo.pop()
    if name in wanted:
        continue
    if name not in messages:
        # Alpha fields of groups not served here: read as unknown fields (skipped).
        print("skipping " + name, file=sys.stderr)
        continue
    wanted.add(name)
    for (_, _, _, t, v) in messages[name]:
        for x in (t, v):
            if x and x not in SCALARS and x not in wanted:
                todo.append(x)

print("// @generated by generate.py from Kubernetes' generated.proto files (k8s.io/api,")
print("// k8s.io/apimachinery): message -> (number, JSON name (\"\" = inlined), label, type, map")
print("// value type).")
print("// Do not edit by hand.")
print()
print("use super::{Field, Label};")
print()
print("pub(super) static MESSAGES: &[(&str, &[Field])] = &[")
for name in sorted(wanted):
    print(f'    ("{name}", &[')
    for (number, fname, label, typ, val) in sorted(messages[name]):
        lab = {"single": "Label::Single", "repeated": "Label::Repeated", "map": "Label::Map"}[label]
        jname = json_names.get((name, fname), fname)
        print(f'        Field {{ number: {number}, name: "{jname}", label: {lab}, ty: "{typ}", value: "{val}" }},')
    print("    ]),")
print("];")
