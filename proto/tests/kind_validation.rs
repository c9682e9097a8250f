//! Per-kind validation: the test manifests are valid, and each broken rule is reported at
//! its exact path with Kubernetes' wording.

use proto::defaults::apply_defaults;
use proto::kind_validation::{check_cron_schedule, validate};
use proto::manifest::load_documents;

fn errors(yaml: &str) -> Vec<String> {
    let objects = load_documents(yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    assert_eq!(objects.len(), 1);
    validate(&objects[0])
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn every_test_manifest_is_valid_before_and_after_defaults() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/manifests");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for mut object in load_documents(&text).unwrap() {
            let errs = validate(&object);
            assert!(errs.is_empty(), "{}: {errs:?}", path.display());
            apply_defaults(&mut object);
            let errs = validate(&object);
            assert!(errs.is_empty(), "{} defaulted: {errs:?}", path.display());
        }
    }
}

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n";
const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n";
const SVC: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n";

/// (what, manifest, every expected error). An empty list is a valid case.
fn cases() -> Vec<(&'static str, String, Vec<&'static str>)> {
    let c = |body: &str| format!("{POD}{body}");
    let d = |body: &str| format!("{DEPLOY}{body}");
    let s = |body: &str| format!("{SVC}{body}");
    let tpl = "  template:\n    metadata: {labels: {app: a}}\n    spec:\n      containers: [{name: a, image: x}]\n";
    vec![
        ("minimal pod", c("  containers: [{name: a, image: x}]\n"), vec![]),
        ("no containers", c("  restartPolicy: Always\n"), vec!["spec.containers: Required value"]),
        ("missing image", c("  containers: [{name: a}]\n"), vec!["spec.containers[0].image: Required value"]),
        (
            "bad container name",
            c("  containers: [{name: Web_1, image: x}]\n"),
            vec!["spec.containers[0].name: Invalid value: \"Web_1\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"],
        ),
        (
            "container names unique across init and app containers",
            c("  initContainers: [{name: a, image: x}]\n  containers: [{name: a, image: x}]\n"),
            vec!["spec.containers[0].name: Duplicate value: \"a\""],
        ),
        (
            "ports out of range and names",
            c("  containers:\n  - name: a\n    image: x\n    ports:\n    - {name: http, containerPort: 70000}\n    - {name: http, containerPort: 80, hostPort: -1}\n    - {name: a-very-long-port-name, containerPort: 81}\n    - {name: '8080', containerPort: 82, protocol: HTTP}\n"),
            vec![
                "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
                "spec.containers[0].ports[1].name: Duplicate value: \"http\"",
                "spec.containers[0].ports[1].hostPort: Invalid value: -1: must be between 1 and 65535, inclusive",
                "spec.containers[0].ports[2].name: Invalid value: \"a-very-long-port-name\": must be no more than 15 characters",
                "spec.containers[0].ports[3].name: Invalid value: \"8080\": must contain at least one letter (a-z)",
                "spec.containers[0].ports[3].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
            ],
        ),
        (
            "restart policy",
            c("  restartPolicy: Sometimes\n  containers: [{name: a, image: x}]\n"),
            vec!["spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\""],
        ),
        (
            "volumes: names, duplicates, missing source, unknown mount",
            c("  volumes:\n  - {name: data, emptyDir: {}}\n  - {name: data, emptyDir: {}}\n  - {name: Bad.Name, emptyDir: {}}\n  - {name: nosource}\n  containers:\n  - name: a\n    image: x\n    volumeMounts: [{name: missing, mountPath: /m}, {name: data}]\n"),
            vec![
                "spec.volumes[1].name: Duplicate value: \"data\"",
                "spec.volumes[2].name: Invalid value: \"Bad.Name\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
                "spec.volumes[3]: Required value: must specify a volume type",
                "spec.containers[0].volumeMounts[0].name: Not found: \"missing\"",
                "spec.containers[0].volumeMounts[1].mountPath: Required value",
            ],
        ),
        (
            "probes need exactly one handler",
            c("  containers:\n  - name: a\n    image: x\n    livenessProbe: {periodSeconds: 5}\n    readinessProbe: {exec: {command: [x]}, tcpSocket: {port: 80}}\n    startupProbe: {httpGet: {port: 0}, successThreshold: 2}\n"),
            vec![
                "spec.containers[0].livenessProbe: Required value: must specify a handler type",
                "spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
                "spec.containers[0].startupProbe.successThreshold: Invalid value: 2: must be 1",
                "spec.containers[0].startupProbe.httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive",
            ],
        ),
        (
            "resources parse and requests <= limits",
            c("  containers:\n  - name: a\n    image: x\n    resources:\n      requests: {cpu: '2', memory: lots}\n      limits: {cpu: 500m}\n"),
            vec![
                "spec.containers[0].resources.requests[memory]: Invalid value: \"lots\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
                "spec.containers[0].resources.requests[cpu]: Invalid value: \"2\": must be less than or equal to cpu limit of 500m",
            ],
        ),
        (
            "env names",
            c("  containers:\n  - name: a\n    image: x\n    env:\n    - {name: 1ABC, value: x}\n    - {name: OK.name-1}\n    - {value: z}\n"),
            vec![
                "spec.containers[0].env[0].name: Invalid value: \"1ABC\": a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name', or 'MY_ENV.NAME', or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')",
                "spec.containers[0].env[2].name: Required value",
            ],
        ),
        (
            "grace period and tolerations",
            c("  terminationGracePeriodSeconds: -1\n  tolerations:\n  - {key: k, operator: Exists, value: v}\n  - {operator: Equal, value: v}\n  - {key: k, operator: Exists, effect: NoSchedule, tolerationSeconds: 5}\n  containers: [{name: a, image: x}]\n"),
            vec![
                "spec.terminationGracePeriodSeconds: Invalid value: -1: must be greater than or equal to 0",
                "spec.tolerations[0].operator: Invalid value: \"v\": value must be empty when `operator` is 'Exists'",
                "spec.tolerations[1].operator: Invalid value: \"Equal\": operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
                "spec.tolerations[2].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set",
            ],
        ),
        ("valid deployment", d(&format!("  selector: {{matchLabels: {{app: a}}}}\n{tpl}")), vec![]),
        ("deployment without selector", d(tpl), vec!["spec.selector: Required value"]),
        (
            "deployment with empty selector",
            d(&format!("  selector: {{}}\n{tpl}")),
            vec!["spec.selector: Invalid value: \"\": empty selector is invalid for deployment"],
        ),
        (
            "selector does not match template",
            d(&format!("  replicas: -1\n  selector: {{matchLabels: {{app: b}}}}\n{tpl}")),
            vec![
                "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
                "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"a\"}: `selector` does not match template `labels`",
            ],
        ),
        (
            "workload template must restart always",
            d("  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: a}}\n    spec:\n      restartPolicy: Never\n      containers: [{name: a, image: x}]\n"),
            vec!["spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\""],
        ),
        (
            "rolling update may not be 0/0",
            d(&format!("  selector: {{matchLabels: {{app: a}}}}\n  strategy: {{rollingUpdate: {{maxSurge: 0, maxUnavailable: 0%}}}}\n{tpl}")),
            vec!["spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"],
        ),
        (
            "rolling update values",
            d(&format!("  selector: {{matchLabels: {{app: a}}}}\n  strategy: {{type: RollingUpdate, rollingUpdate: {{maxSurge: lots, maxUnavailable: 150%}}}}\n{tpl}")),
            vec![
                "spec.strategy.rollingUpdate.maxSurge: Invalid value: \"lots\": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%', or '93%', regex used for validation is '[0-9]+%')",
                "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"150%\": must not be greater than 100%",
            ],
        ),
        ("valid service", s("  selector: {app: a}\n  ports: [{port: 80, targetPort: http}]\n"), vec![]),
        ("headless service needs no ports", s("  clusterIP: None\n"), vec![]),
        ("external name service", s("  type: ExternalName\n"), vec!["spec.externalName: Required value"]),
        ("service without ports", s("  selector: {app: a}\n"), vec!["spec.ports: Required value"]),
        (
            "service ports",
            s("  type: NodePort\n  ports:\n  - {port: 0, targetPort: 70000}\n  - {name: web, port: 80, nodePort: 70000}\n  - {name: web, port: 81, targetPort: not_a_name}\n"),
            vec![
                "spec.ports[0].name: Required value",
                "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
                "spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
                "spec.ports[1].nodePort: Invalid value: 70000: must be between 1 and 65535, inclusive",
                "spec.ports[2].name: Duplicate value: \"web\"",
                "spec.ports[2].targetPort: Invalid value: \"not_a_name\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
            ],
        ),
        (
            "service type",
            s("  type: Magic\n  ports: [{port: 80, nodePort: 30001}]\n"),
            vec!["spec.type: Unsupported value: \"Magic\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""],
        ),
        (
            "node port on a ClusterIP service",
            s("  ports: [{port: 80, nodePort: 30001}]\n"),
            vec!["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"],
        ),
        (
            "config map keys",
            "apiVersion: v1\nkind: ConfigMap\ndata: {ok.key_1: a, 'bad key': b}\n".into(),
            vec!["data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name', or 'KEY_NAME', or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"],
        ),
        (
            "secret keys",
            "apiVersion: v1\nkind: Secret\nstringData: {'a/b': x}\n".into(),
            vec!["stringData[a/b]: Invalid value: \"a/b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name', or 'KEY_NAME', or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"],
        ),
        (
            "job template restart policy is required",
            "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers: [{name: a, image: x}]\n".into(),
            vec!["spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\""],
        ),
        (
            "job template may not restart always",
            "apiVersion: batch/v1\nkind: Job\nspec:\n  backoffLimit: -1\n  template:\n    spec:\n      restartPolicy: Always\n      containers: [{name: a, image: x}]\n".into(),
            vec![
                "spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0",
                "spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\"",
            ],
        ),
        (
            "cron schedule",
            "apiVersion: batch/v1\nkind: CronJob\nspec:\n  schedule: '* * *'\n  jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: a, image: x}]}}}}\n".into(),
            vec!["spec.schedule: Invalid value: \"* * *\": unparseable schedule: expected exactly 5 fields, found 3: * * *"],
        ),
        (
            // Admitted by the old light check, refused by the controller: now refused here.
            "cron schedule with a backwards range",
            "apiVersion: batch/v1\nkind: CronJob\nspec:\n  schedule: '5-2 * * * *'\n  jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: a, image: x}]}}}}\n".into(),
            vec!["spec.schedule: Invalid value: \"5-2 * * * *\": unparseable schedule: beginning of range (5) beyond end of range (2)"],
        ),
        (
            "cron schedule with an unknown month name",
            "apiVersion: batch/v1\nkind: CronJob\nspec:\n  schedule: '0 0 1 XYZ *'\n  jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: a, image: x}]}}}}\n".into(),
            vec!["spec.schedule: Invalid value: \"0 0 1 XYZ *\": unparseable schedule: failed to parse int from XYZ"],
        ),
        (
            "cron job template is validated",
            "apiVersion: batch/v1\nkind: CronJob\nspec:\n  schedule: '@daily'\n  concurrencyPolicy: Sometimes\n  jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: a}]}}}}\n".into(),
            vec![
                "spec.concurrencyPolicy: Unsupported value: \"Sometimes\": supported values: \"Allow\", \"Forbid\", \"Replace\"",
                "spec.jobTemplate.spec.template.spec.containers[0].image: Required value",
            ],
        ),
        (
            "hpa replicas",
            "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nspec:\n  scaleTargetRef: {kind: Deployment, name: web}\n  minReplicas: 5\n  maxReplicas: 3\n".into(),
            vec!["spec.maxReplicas: Invalid value: 3: must be greater than or equal to `minReplicas`"],
        ),
        (
            "hpa min replicas",
            "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nspec:\n  scaleTargetRef: {kind: Deployment, name: web}\n  minReplicas: 0\n  maxReplicas: 3\n".into(),
            vec!["spec.minReplicas: Invalid value: 0: must be greater than or equal to 1"],
        ),
        (
            "pv capacity and source",
            "apiVersion: v1\nkind: PersistentVolume\nspec:\n  capacity: {cpu: 1}\n  accessModes: [ReadWriteOnce]\n".into(),
            vec!["spec.capacity[storage]: Required value", "spec: Required value: must specify a volume type"],
        ),
        (
            "pv with two sources",
            "apiVersion: v1\nkind: PersistentVolume\nspec:\n  capacity: {storage: 1Gi}\n  accessModes: [ReadWriteOnce]\n  hostPath: {path: /a}\n  nfs: {server: s, path: /b}\n".into(),
            vec!["spec.nfs: Forbidden: may not specify more than 1 volume type"],
        ),
        (
            "pvc access modes and storage",
            "apiVersion: v1\nkind: PersistentVolumeClaim\nspec:\n  resources: {requests: {cpu: 1}}\n".into(),
            vec![
                "spec.accessModes: Required value: at least 1 access mode is required",
                "spec.resources[storage]: Required value",
            ],
        ),
        (
            "ingress",
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nspec:\n  rules:\n  - http:\n      paths:\n      - {path: app, pathType: Prefix, backend: {service: {name: web, port: {number: 80, name: http}}}}\n".into(),
            vec![
                "spec.rules[0].http.paths[0].path: Invalid value: \"app\": must be an absolute path",
                "spec.rules[0].http.paths[0].backend.service.port: Invalid value: \"\": cannot set both port name & port number",
            ],
        ),
    ]
}

#[test]
fn table_of_valid_and_invalid_objects() {
    let mut failures = Vec::new();
    for (what, yaml, want) in cases() {
        let got = errors(&yaml);
        if got != want {
            failures.push(format!("{what}:\n  got:  {got:#?}\n  want: {want:#?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn cron_schedules() {
    for ok in [
        "*/5 * * * *",
        "0 0 1 JAN MON",
        "15,45 9-17 * * 1-5",
        "@hourly",
        "0 0 * * 7",
        "0 0 ? * MON-FRI",
        "23 0-20/2 * * *",
    ] {
        assert_eq!(check_cron_schedule(ok), Ok(()), "{ok}");
    }
    for bad in [
        "* * * * * *",
        "60 * * * *",
        "0 24 * * *",
        "*/0 * * * *",
        "@sometimes",
        "TZ=UTC 0 * * * *",
        "0 0 0 * *",
        "5-2 * * * *",
        "0 0 1 XYZ *",
    ] {
        assert!(check_cron_schedule(bad).is_err(), "{bad}");
    }
}
