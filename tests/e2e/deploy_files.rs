//! Static checks of the deployment files: Dockerfile, .dockerignore,
//! docker-compose.yml, k8s/ (kustomize base and overlays) and
//! scripts/services-up. Nothing here needs Docker, a cluster or the network:
//! the files are parsed and cross-checked against the target list below.

use serde::Deserialize;
use serde_yaml::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Every target the `ecl` launcher can run (`ecl serve --target <name>`).
/// The launcher's own table is pinned by a separate test; this copy is what
/// the deployment files must cover.
const TARGETS: [&str; 8] = [
    "gateway",
    "identity",
    "contract",
    "tenant",
    "metering",
    "billing",
    "notification",
    "sla",
];

/// Infrastructure services in docker-compose.yml.
const INFRA: [&str; 3] = ["postgres", "rabbitmq", "redis"];

/// Environment every ECL process gets.
const COMMON_ENV: [&str; 6] = [
    "ECL_HTTP_ADDR",
    "ECL_DATABASE_URL",
    "ECL_AMQP_URL",
    "ECL_REDIS_URL",
    "ECL_NAMESPACE",
    "RUST_LOG",
];

/// Only the identity target needs it, and it comes from a secret in k8s.
const OPERATOR_PASSWORD_ENV: &str = "ECL_BOOTSTRAP_OPERATOR_PASSWORD";
const TARGET_WITH_OPERATOR_PASSWORD: &str = "identity";

const COMPOSE_IMAGE: &str = "ecl:latest";
const HTTP_PORT: u64 = 8080;

// ---------------------------------------------------------------- helpers

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// All documents of a (multi-document) YAML file, with `<<` merge keys
/// applied; empty documents (e.g. a trailing `---`) are dropped.
fn parse_yaml_docs(path: &Path) -> Vec<Value> {
    let text = read(path);
    let mut docs = Vec::new();
    for (i, de) in serde_yaml::Deserializer::from_str(&text).enumerate() {
        let mut doc = Value::deserialize(de).unwrap_or_else(|e| {
            panic!("{} (document {}): invalid YAML: {e}", path.display(), i + 1)
        });
        doc.apply_merge().unwrap_or_else(|e| {
            panic!(
                "{} (document {}): bad merge key: {e}",
                path.display(),
                i + 1
            )
        });
        if !doc.is_null() {
            docs.push(doc);
        }
    }
    docs
}

fn parse_yaml_one(path: &Path) -> Value {
    let mut docs = parse_yaml_docs(path);
    assert_eq!(
        docs.len(),
        1,
        "{}: expected exactly one YAML document",
        path.display()
    );
    docs.remove(0)
}

/// `get(v, "spec.template.spec.containers.0.args")`: mapping keys and
/// sequence indices separated by dots (keys with dots are not reachable;
/// use `Value::get` for those).
fn get<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |cur, seg| match cur {
        Value::Sequence(seq) => seg.parse::<usize>().ok().and_then(|i| seq.get(i)),
        Value::Mapping(_) => cur.get(seg),
        _ => None,
    })
}

fn get_str<'a>(v: &'a Value, path: &str) -> Option<&'a str> {
    get(v, path).and_then(Value::as_str)
}

fn seq<'a>(v: &'a Value, path: &str) -> &'a [Value] {
    get(v, path)
        .and_then(Value::as_sequence)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// A YAML scalar as text (strings as is, numbers and booleans printed).
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A mapping of scalars (labels, selectors, annotations, environment).
fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(Value::Mapping(m)) = v {
        for (k, val) in m {
            if let (Some(k), Some(val)) = (scalar(k), scalar(val)) {
                out.insert(k, val);
            }
        }
    }
    out
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_sequence)
        .map(|s| s.iter().filter_map(scalar).collect())
        .unwrap_or_default()
}

/// `selector` non-empty and every pair of it present in `labels`.
fn selects(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

fn serve_args(target: &str) -> Vec<String> {
    vec!["serve".into(), "--target".into(), target.into()]
}

fn yaml_files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries =
        fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            yaml_files_under(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            out.push(path);
        }
    }
}

// ---------------------------------------------------------------- compose

fn compose() -> Value {
    parse_yaml_one(&root().join("docker-compose.yml"))
}

fn compose_services(doc: &Value) -> &serde_yaml::Mapping {
    doc.get("services")
        .and_then(Value::as_mapping)
        .expect("docker-compose.yml: `services` mapping")
}

/// Names of a compose service's environment (mapping or `KEY=value` list).
fn compose_env_names(service: &Value) -> BTreeSet<String> {
    match service.get("environment") {
        Some(Value::Mapping(m)) => m.keys().filter_map(scalar).collect(),
        Some(Value::Sequence(s)) => s
            .iter()
            .filter_map(Value::as_str)
            .map(|kv| kv.split('=').next().unwrap_or(kv).to_string())
            .collect(),
        _ => BTreeSet::new(),
    }
}

#[test]
fn compose_has_infra_with_healthchecks() {
    let doc = compose();
    let services = compose_services(&doc);
    for (name, image_prefix) in [
        ("postgres", "postgres:16"),
        ("rabbitmq", "rabbitmq:3-management"),
        ("redis", "redis:7"),
    ] {
        let svc = services
            .get(name)
            .unwrap_or_else(|| panic!("docker-compose.yml: no `{name}` service"));
        let image = get_str(svc, "image").unwrap_or_default();
        assert!(
            image.starts_with(image_prefix),
            "docker-compose.yml: {name} image is {image:?}, expected {image_prefix}"
        );
        let test = get(svc, "healthcheck.test");
        let has_test = match test {
            Some(Value::Sequence(s)) => !s.is_empty(),
            Some(Value::String(s)) => !s.is_empty(),
            _ => false,
        };
        assert!(
            has_test,
            "docker-compose.yml: {name} has no healthcheck.test"
        );
    }
    let pg_check = format!("{:?}", get(&services["postgres"], "healthcheck.test"));
    assert!(
        pg_check.contains("pg_isready"),
        "postgres healthcheck should use pg_isready"
    );
}

#[test]
fn compose_runs_each_target_once_from_one_image() {
    let doc = compose();
    assert!(
        doc.get("x-ecl").is_some(),
        "docker-compose.yml: the shared part of the ECL services lives in the `x-ecl` extension field"
    );
    let services = compose_services(&doc);

    let app_names: BTreeSet<String> = services
        .keys()
        .filter_map(Value::as_str)
        .filter(|n| !INFRA.contains(n))
        .map(str::to_string)
        .collect();
    let expected: BTreeSet<String> = TARGETS.iter().map(|t| t.to_string()).collect();
    assert_eq!(
        app_names, expected,
        "docker-compose.yml: exactly one service per target"
    );

    let mut builders = Vec::new();
    for target in TARGETS {
        let svc = &services[target];
        let ctx = format!("docker-compose.yml service {target}");

        assert_eq!(get_str(svc, "image"), Some(COMPOSE_IMAGE), "{ctx}: image");
        assert_eq!(
            strings(svc.get("command")),
            serve_args(target),
            "{ctx}: command"
        );

        let env = compose_env_names(svc);
        for name in COMMON_ENV {
            assert!(env.contains(name), "{ctx}: environment lacks {name}");
        }
        assert_eq!(
            env.contains(OPERATOR_PASSWORD_ENV),
            target == TARGET_WITH_OPERATOR_PASSWORD,
            "{ctx}: {OPERATOR_PASSWORD_ENV} belongs to {TARGET_WITH_OPERATOR_PASSWORD} only"
        );
        if let Some(Value::Mapping(m)) = svc.get("environment") {
            let val = |k: &str| {
                m.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            assert_eq!(
                val("ECL_HTTP_ADDR"),
                format!("0.0.0.0:{HTTP_PORT}"),
                "{ctx}"
            );
            assert!(val("ECL_DATABASE_URL").starts_with("postgres://"), "{ctx}");
            assert!(val("ECL_DATABASE_URL").contains("@postgres:5432/"), "{ctx}");
            assert!(val("ECL_AMQP_URL").starts_with("amqp://"), "{ctx}");
            assert!(val("ECL_AMQP_URL").contains("@rabbitmq:5672/"), "{ctx}");
            assert!(
                val("ECL_REDIS_URL").starts_with("redis://redis:6379"),
                "{ctx}"
            );
        }

        for infra in INFRA {
            assert_eq!(
                get_str(svc, &format!("depends_on.{infra}.condition")),
                Some("service_healthy"),
                "{ctx}: must wait for {infra} to be healthy"
            );
        }

        if let Some(build) = svc.get("build") {
            let context = build.as_str().or_else(|| get_str(build, "context"));
            assert_eq!(context, Some("."), "{ctx}: builds the root Dockerfile");
            builders.push(target);
        }
    }
    assert_eq!(
        builders.len(),
        1,
        "the image is built by exactly one service, got {builders:?}"
    );

    let ports = strings(services["gateway"].get("ports"));
    assert!(
        ports
            .iter()
            .any(|p| p == &format!("{HTTP_PORT}:{HTTP_PORT}")),
        "gateway publishes {HTTP_PORT}:{HTTP_PORT}, got {ports:?}"
    );
    for target in TARGETS.iter().filter(|t| **t != "gateway") {
        assert!(
            services[*target].get("ports").is_none(),
            "only the gateway publishes a port; {target} does too"
        );
    }
}

// ---------------------------------------------------------------- k8s

fn k8s() -> PathBuf {
    root().join("k8s")
}

#[test]
fn every_k8s_yaml_parses_into_k8s_objects() {
    let mut files = Vec::new();
    yaml_files_under(&k8s(), &mut files);
    assert!(!files.is_empty(), "no YAML under k8s/");
    for file in &files {
        let docs = parse_yaml_docs(file);
        assert!(!docs.is_empty(), "{}: empty", file.display());
        for doc in &docs {
            assert!(
                get_str(doc, "apiVersion").is_some() && get_str(doc, "kind").is_some(),
                "{}: every document needs apiVersion and kind",
                file.display()
            );
        }
    }
}

/// Checks that every file a kustomization refers to exists, and returns the
/// documents of its `resources` that are files (directories are other
/// kustomizations, which must contain a kustomization.yaml).
fn kustomization_objects(dir: &Path) -> (Value, Vec<Value>) {
    let kfile = dir.join("kustomization.yaml");
    let k = parse_yaml_one(&kfile);
    assert_eq!(
        get_str(&k, "kind"),
        Some("Kustomization"),
        "{}",
        kfile.display()
    );
    let mut objects = Vec::new();
    for res in strings(k.get("resources")) {
        let path = dir.join(&res);
        if path.is_dir() {
            assert!(
                path.join("kustomization.yaml").is_file(),
                "{}: resource {res} is a directory without kustomization.yaml",
                kfile.display()
            );
        } else {
            assert!(
                path.is_file(),
                "{}: resource {res} does not exist",
                kfile.display()
            );
            objects.extend(parse_yaml_docs(&path));
        }
    }
    for patch in seq(&k, "patches")
        .iter()
        .chain(seq(&k, "patchesStrategicMerge"))
    {
        let file = patch.as_str().or_else(|| get_str(patch, "path"));
        match file {
            Some(f) => assert!(
                dir.join(f).is_file(),
                "{}: patch {f} does not exist",
                kfile.display()
            ),
            None => assert!(
                get_str(patch, "patch").is_some(),
                "{}: patch without path or patch",
                kfile.display()
            ),
        }
    }
    (k, objects)
}

fn of_kind<'a>(objects: &'a [Value], kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    objects
        .iter()
        .filter(move |o| get_str(o, "kind") == Some(kind))
}

fn name(o: &Value) -> &str {
    get_str(o, "metadata.name").unwrap_or_default()
}

/// The named or numeric probe port must be the container's HTTP port.
fn probe_port_ok(container: &Value, probe: &Value) -> bool {
    let port = get(probe, "httpGet.port");
    seq(container, "ports").iter().any(|p| {
        get(p, "containerPort").and_then(Value::as_u64) == Some(HTTP_PORT)
            && match port {
                Some(Value::Number(n)) => n.as_u64() == Some(HTTP_PORT),
                Some(Value::String(s)) => get_str(p, "name") == Some(s.as_str()),
                _ => false,
            }
    })
}

#[test]
fn k8s_base_has_a_complete_workload_per_target() {
    let base = k8s().join("base");
    let (kustomization, objects) = kustomization_objects(&base);

    assert_eq!(
        of_kind(&objects, "Namespace").count(),
        1,
        "base: one Namespace"
    );
    let image_names: BTreeSet<String> = seq(&kustomization, "images")
        .iter()
        .filter_map(|i| get_str(i, "name").map(str::to_string))
        .collect();

    let deployments: Vec<&Value> = of_kind(&objects, "Deployment").collect();
    let pod_labels = |d: &Value| string_map(get(d, "spec.template.metadata.labels"));

    for target in TARGETS {
        let ctx = format!("k8s/base target {target}");

        // --- Deployment
        let matching: Vec<&&Value> = deployments
            .iter()
            .filter(|d| {
                seq(d, "spec.template.spec.containers")
                    .iter()
                    .any(|c| strings(c.get("args")) == serve_args(target))
            })
            .collect();
        assert_eq!(
            matching.len(),
            1,
            "{ctx}: exactly one Deployment running `serve --target {target}`"
        );
        let dep = *matching[0];
        let dep_name = name(dep);
        assert_eq!(get_str(dep, "apiVersion"), Some("apps/v1"), "{ctx}");
        let replicas = get(dep, "spec.replicas")
            .and_then(Value::as_u64)
            .unwrap_or(1);
        assert!(replicas >= 2, "{ctx}: at least 2 replicas, got {replicas}");

        let labels = pod_labels(dep);
        let selector = string_map(get(dep, "spec.selector.matchLabels"));
        assert!(
            selects(&selector, &labels),
            "{ctx}: Deployment selector must match its pod labels"
        );
        for other in deployments.iter().filter(|d| name(d) != dep_name) {
            assert!(
                !selects(&selector, &pod_labels(other)),
                "{ctx}: selector also matches the pods of {}",
                name(other)
            );
        }

        let annotations = string_map(get(dep, "spec.template.metadata.annotations"));
        assert_eq!(
            annotations.get("prometheus.io/scrape").map(String::as_str),
            Some("true"),
            "{ctx}"
        );
        assert_eq!(
            annotations.get("prometheus.io/port"),
            Some(&HTTP_PORT.to_string()),
            "{ctx}"
        );
        assert_eq!(
            annotations.get("prometheus.io/path").map(String::as_str),
            Some("/metrics"),
            "{ctx}"
        );

        let container = seq(dep, "spec.template.spec.containers")
            .iter()
            .find(|c| strings(c.get("args")) == serve_args(target))
            .expect("container");
        let image = get_str(container, "image").unwrap_or_default();
        assert!(
            image_names.contains(image.split(':').next().unwrap_or_default()),
            "{ctx}: image {image:?} is not set by the kustomization's `images`"
        );
        let liveness = container
            .get("livenessProbe")
            .unwrap_or_else(|| panic!("{ctx}: no livenessProbe"));
        let readiness = container
            .get("readinessProbe")
            .unwrap_or_else(|| panic!("{ctx}: no readinessProbe"));
        assert_eq!(
            get_str(liveness, "httpGet.path"),
            Some("/healthz"),
            "{ctx}: liveness"
        );
        assert_eq!(
            get_str(readiness, "httpGet.path"),
            Some("/readyz"),
            "{ctx}: readiness"
        );
        assert!(
            probe_port_ok(container, liveness),
            "{ctx}: liveness probe port"
        );
        assert!(
            probe_port_ok(container, readiness),
            "{ctx}: readiness probe port"
        );
        for kind in ["requests", "limits"] {
            for res in ["cpu", "memory"] {
                assert!(
                    get(container, &format!("resources.{kind}.{res}")).is_some(),
                    "{ctx}: resources.{kind}.{res} missing"
                );
            }
        }
        let non_root = [
            get(dep, "spec.template.spec.securityContext.runAsNonRoot"),
            get(container, "securityContext.runAsNonRoot"),
        ]
        .iter()
        .any(|v| v.and_then(Value::as_bool) == Some(true));
        assert!(non_root, "{ctx}: runAsNonRoot");

        // envFrom the ConfigMap that carries the common settings
        let config_maps: Vec<&str> = seq(container, "envFrom")
            .iter()
            .filter_map(|e| get_str(e, "configMapRef.name"))
            .collect();
        assert!(!config_maps.is_empty(), "{ctx}: envFrom a ConfigMap");
        for cm_name in &config_maps {
            let cm = of_kind(&objects, "ConfigMap")
                .find(|c| name(c) == *cm_name)
                .unwrap_or_else(|| panic!("{ctx}: ConfigMap {cm_name} is not in the base"));
            let data = string_map(cm.get("data"));
            for key in COMMON_ENV {
                assert!(data.contains_key(key), "ConfigMap {cm_name} lacks {key}");
            }
            assert_eq!(
                data.get("ECL_HTTP_ADDR"),
                Some(&format!("0.0.0.0:{HTTP_PORT}"))
            );
        }
        let password = seq(container, "env")
            .iter()
            .find(|e| get_str(e, "name") == Some(OPERATOR_PASSWORD_ENV));
        if target == TARGET_WITH_OPERATOR_PASSWORD {
            let password = password.unwrap_or_else(|| panic!("{ctx}: env {OPERATOR_PASSWORD_ENV}"));
            let non_empty = |path: &str| get_str(password, path).is_some_and(|s| !s.is_empty());
            assert!(
                non_empty("valueFrom.secretKeyRef.name") && non_empty("valueFrom.secretKeyRef.key"),
                "{ctx}: {OPERATOR_PASSWORD_ENV} comes from a Secret"
            );
        } else {
            assert!(
                password.is_none(),
                "{ctx}: only {TARGET_WITH_OPERATOR_PASSWORD} gets {OPERATOR_PASSWORD_ENV}"
            );
        }

        // --- Service
        let services: Vec<&Value> = of_kind(&objects, "Service")
            .filter(|s| selects(&string_map(get(s, "spec.selector")), &labels))
            .collect();
        assert_eq!(
            services.len(),
            1,
            "{ctx}: exactly one Service selecting the pods"
        );
        let svc = services[0];
        for other in deployments.iter().filter(|d| name(d) != dep_name) {
            assert!(
                !selects(&string_map(get(svc, "spec.selector")), &pod_labels(other)),
                "{ctx}: Service {} also selects {}",
                name(svc),
                name(other)
            );
        }
        let svc_port = seq(svc, "spec.ports")
            .first()
            .unwrap_or_else(|| panic!("{ctx}: Service ports"));
        assert_eq!(
            get(svc_port, "port").and_then(Value::as_u64),
            Some(HTTP_PORT),
            "{ctx}: Service port"
        );
        let target_port_ok = match svc_port.get("targetPort") {
            None => true, // defaults to `port`
            Some(Value::Number(n)) => n.as_u64() == Some(HTTP_PORT),
            Some(Value::String(s)) => seq(container, "ports").iter().any(|p| {
                get_str(p, "name") == Some(s.as_str())
                    && get(p, "containerPort").and_then(Value::as_u64) == Some(HTTP_PORT)
            }),
            _ => false,
        };
        assert!(
            target_port_ok,
            "{ctx}: Service targetPort must reach the container's {HTTP_PORT}"
        );

        // --- HorizontalPodAutoscaler
        let hpas: Vec<&Value> = of_kind(&objects, "HorizontalPodAutoscaler")
            .filter(|h| {
                get_str(h, "spec.scaleTargetRef.kind") == Some("Deployment")
                    && get_str(h, "spec.scaleTargetRef.name") == Some(dep_name)
            })
            .collect();
        assert_eq!(hpas.len(), 1, "{ctx}: exactly one HPA scaling {dep_name}");
        let hpa = hpas[0];
        assert_eq!(
            get_str(hpa, "apiVersion"),
            Some("autoscaling/v2"),
            "{ctx}: HPA apiVersion"
        );
        let min = get(hpa, "spec.minReplicas")
            .and_then(Value::as_u64)
            .unwrap_or(1);
        let max = get(hpa, "spec.maxReplicas")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        assert!(min >= 2 && min <= max, "{ctx}: HPA min {min} / max {max}");
        let cpu70 = seq(hpa, "spec.metrics").iter().any(|m| {
            get_str(m, "type") == Some("Resource")
                && get_str(m, "resource.name") == Some("cpu")
                && get_str(m, "resource.target.type") == Some("Utilization")
                && get(m, "resource.target.averageUtilization").and_then(Value::as_u64) == Some(70)
        });
        assert!(cpu70, "{ctx}: HPA on CPU utilization 70%");

        // --- PodDisruptionBudget
        let pdbs: Vec<&Value> = of_kind(&objects, "PodDisruptionBudget")
            .filter(|p| selects(&string_map(get(p, "spec.selector.matchLabels")), &labels))
            .collect();
        assert_eq!(pdbs.len(), 1, "{ctx}: exactly one PDB selecting the pods");
        let pdb = pdbs[0];
        assert_eq!(
            get_str(pdb, "apiVersion"),
            Some("policy/v1"),
            "{ctx}: PDB apiVersion"
        );
        assert_eq!(
            get(pdb, "spec.minAvailable").and_then(Value::as_u64),
            Some(1),
            "{ctx}: PDB minAvailable"
        );
        assert_eq!(
            string_map(get(pdb, "spec.selector.matchLabels")),
            selector,
            "{ctx}: PDB selector = Deployment selector"
        );
    }

    assert_eq!(
        deployments.len(),
        TARGETS.len(),
        "base: one Deployment per target, no others"
    );
    for kind in ["Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"] {
        assert_eq!(
            of_kind(&objects, kind).count(),
            TARGETS.len(),
            "base: one {kind} per target"
        );
    }
}

#[test]
fn k8s_base_has_one_file_per_target() {
    let base = k8s().join("base");
    let (kustomization, _) = kustomization_objects(&base);
    let resources = strings(kustomization.get("resources"));
    for target in TARGETS {
        let file = format!("{target}.yaml");
        assert!(
            resources.contains(&file),
            "k8s/base/kustomization.yaml should list {file}"
        );
        let kinds: BTreeSet<String> = parse_yaml_docs(&base.join(&file))
            .iter()
            .filter_map(|d| get_str(d, "kind").map(str::to_string))
            .collect();
        for kind in [
            "Deployment",
            "Service",
            "HorizontalPodAutoscaler",
            "PodDisruptionBudget",
        ] {
            assert!(kinds.contains(kind), "k8s/base/{file} lacks a {kind}");
        }
    }
}

#[test]
fn k8s_overlays_build_on_the_base() {
    for overlay in ["dev", "prod"] {
        let dir = k8s().join("overlays").join(overlay);
        let (k, _) = kustomization_objects(&dir);
        let resources = strings(k.get("resources"));
        assert!(
            resources
                .iter()
                .any(|r| r.trim_end_matches('/') == "../../base"),
            "k8s/overlays/{overlay} must reference ../../base, has {resources:?}"
        );
    }
    let prod = read(&k8s().join("overlays/prod/kustomization.yaml"));
    assert!(
        prod.contains("/spec/replicas"),
        "the prod overlay raises the replicas"
    );
}

// ---------------------------------------------------------------- Dockerfile

#[test]
fn dockerfile_builds_ecl_and_runs_as_non_root() {
    let text = read(&root().join("Dockerfile"));
    // Instructions only (comments and continuation lines joined).
    let joined = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("\\\n", " ");
    let instructions: Vec<&str> = joined
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let from: Vec<usize> = instructions
        .iter()
        .enumerate()
        .filter(|(_, l)| l.to_ascii_uppercase().starts_with("FROM "))
        .map(|(i, _)| i)
        .collect();
    assert!(from.len() >= 2, "Dockerfile: multi-stage build expected");
    assert!(
        instructions[from[0]].contains("rust:"),
        "Dockerfile: builder stage FROM rust:*"
    );

    let build = instructions
        .iter()
        .find(|l| l.contains("cargo build"))
        .expect("Dockerfile: a `cargo build` step");
    assert!(
        build.contains("--release") && build.contains("--bin ecl"),
        "Dockerfile: {build}"
    );
    assert!(
        build.contains("--mount=type=cache"),
        "Dockerfile: cargo cache mounts"
    );

    let runtime = &instructions[*from.last().unwrap()..];
    assert!(
        runtime[0].contains("debian:bookworm-slim"),
        "Dockerfile: runtime on debian:bookworm-slim"
    );
    assert!(
        runtime.iter().any(|l| l.contains("ca-certificates")),
        "Dockerfile: runtime has ca-certificates"
    );
    let user = runtime
        .iter()
        .rev()
        .find(|l| l.to_ascii_uppercase().starts_with("USER "))
        .expect("Dockerfile: the runtime stage sets USER");
    let who = user[5..].trim().split(':').next().unwrap_or_default();
    assert!(
        !who.is_empty() && who != "root" && who != "0",
        "Dockerfile: runs as {who:?}, not root"
    );
    assert!(
        runtime
            .iter()
            .any(|l| l.replace(' ', "") == r#"ENTRYPOINT["ecl"]"#),
        "Dockerfile: ENTRYPOINT [\"ecl\"]"
    );
    assert!(
        runtime
            .iter()
            .any(|l| l.replace(' ', "") == r#"CMD["serve"]"#),
        "Dockerfile: CMD [\"serve\"]"
    );
    assert!(
        runtime.iter().any(|l| *l == format!("EXPOSE {HTTP_PORT}")),
        "Dockerfile: EXPOSE {HTTP_PORT}"
    );
    assert!(
        runtime
            .iter()
            .any(|l| l.contains("/ecl") && l.to_ascii_uppercase().starts_with("COPY --FROM=")),
        "Dockerfile: the runtime copies the ecl binary from the builder"
    );

    let ignore = read(&root().join(".dockerignore"));
    assert!(
        ignore
            .lines()
            .any(|l| matches!(l.trim(), "target" | "target/" | "/target" | "**/target")),
        ".dockerignore should exclude target/"
    );
}

// ---------------------------------------------------------------- scripts

#[test]
fn services_up_is_a_strict_executable_bash_script() {
    let path = root().join("scripts/services-up");
    let text = read(&path);
    assert!(
        text.starts_with("#!/usr/bin/env bash") || text.starts_with("#!/bin/bash"),
        "shebang"
    );
    assert!(
        text.contains("set -euo pipefail"),
        "scripts/services-up: set -euo pipefail"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&path).expect("metadata").permissions().mode();
        assert!(mode & 0o111 != 0, "scripts/services-up must be executable");
    }
}
