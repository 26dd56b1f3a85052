//! Kubernetes CronJob manifests, one YAML document per job. Every scalar
//! is written as a JSON string (a YAML double-quoted scalar reads exactly
//! the same), so no value from the file can change the document's shape.
//! Secrets are referenced, never read: each `{ env = NAME }` comes from the
//! Secret `--secret` names (key = the variable's name), each `{ file =
//! PATH }` is mounted from the same Secret at its path.

use super::jobs::Job;

/// What the manifests need beyond the file.
pub(crate) struct Options<'a> {
    /// The image the Dockerfile builds (its entrypoint is `dbops`).
    pub(crate) image: &'a str,
    /// The Secret holding every referenced variable and file.
    pub(crate) secret: &'a str,
    /// The ConfigMap holding `dbops.toml` (key `dbops.toml`).
    pub(crate) config_map: &'a str,
    /// The restore test's `emptyDir` size limit (`50Gi`).
    pub(crate) restore_size: Option<&'a str>,
    /// `[restore_test] work_dir`, when the file sets one.
    pub(crate) work_dir: Option<&'a str>,
    pub(crate) variables: &'a [String],
    pub(crate) files: &'a [String],
}

/// Where the ConfigMap puts the file in the container.
pub(crate) const CONFIG_PATH: &str = "/etc/dbops/dbops.toml";
/// The restore test's work directory when the file does not set one.
const DEFAULT_WORK_DIR: &str = "/var/tmp/dbops";

fn q(text: &str) -> String {
    serde_json::to_string(text).expect("strings serialize")
}

/// The Secret's key for a referenced file: its name, in the characters a
/// key may hold (`[-._a-zA-Z0-9]`), numbered when two files share one.
pub(crate) fn file_keys(files: &[String]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for path in files {
        let name = path.rsplit('/').next().unwrap_or(path);
        let mut key: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if key.is_empty() || key.chars().all(|c| c == '.') {
            key = "file".into();
        }
        let mut candidate = key.clone();
        let mut n = 2;
        while keys.contains(&candidate) {
            candidate = format!("{key}-{n}");
            n += 1;
        }
        keys.push(candidate);
    }
    keys
}

/// The manifests of `jobs`, as one multi-document YAML stream.
pub(crate) fn render(jobs: &[Job], options: &Options) -> String {
    let mut out = String::new();
    for job in jobs {
        out.push_str(&cron_job(job, options));
    }
    out
}

fn cron_job(job: &Job, o: &Options) -> String {
    let name = job.name();
    let mut labels = format!(
        "app.kubernetes.io/name: \"dbops\"\n    app.kubernetes.io/component: {}\n",
        q(job.word)
    );
    if let Some(environment) = &job.environment {
        labels.push_str(&format!(
            "    app.kubernetes.io/instance: {}\n",
            q(environment)
        ));
    }
    let args: Vec<String> = job
        .arguments(CONFIG_PATH, None)
        .iter()
        .map(|a| q(a))
        .collect();
    let drill = job.command == "restore-test";
    let env = env_entries(drill, o);
    let (mounts, volumes) = mounts_and_volumes(drill, o);
    let env = if env.is_empty() {
        String::new()
    } else {
        format!("              env:\n{env}")
    };
    format!(
        "---
apiVersion: \"batch/v1\"
kind: \"CronJob\"
metadata:
  name: {name}
  labels:
    {labels}spec:
  schedule: {schedule}
  concurrencyPolicy: \"Forbid\"
  startingDeadlineSeconds: 3600
  successfulJobsHistoryLimit: 3
  failedJobsHistoryLimit: 5
  jobTemplate:
    spec:
      backoffLimit: 0
      activeDeadlineSeconds: {deadline}
      template:
        metadata:
          labels:
            app.kubernetes.io/name: \"dbops\"
            app.kubernetes.io/component: {word}
        spec:
          restartPolicy: \"Never\"
          containers:
            - name: \"dbops\"
              image: {image}
              args: [{args}]
{env}              volumeMounts:
{mounts}          volumes:
{volumes}",
        name = q(&name),
        schedule = q(&job.schedule.cron()),
        deadline = job.deadline.as_secs().max(1),
        word = q(job.word),
        image = q(o.image),
        args = args.join(", "),
    )
}

/// The container's variables: each from the Secret, and `TMPDIR` for a drill.
fn env_entries(drill: bool, o: &Options) -> String {
    let mut env = String::new();
    for variable in o.variables {
        env.push_str(&format!(
            "                - name: {}\n                  valueFrom:\n                    secretKeyRef:\n                      name: {}\n                      key: {}\n",
            q(variable),
            q(o.secret),
            q(variable)
        ));
    }
    if drill && o.work_dir.is_none() {
        env.push_str(&format!(
            "                - name: \"TMPDIR\"\n                  value: {}\n",
            q(DEFAULT_WORK_DIR)
        ));
    }
    env
}

/// The container's mounts and the pod's volumes: the file, each referenced
/// file from the Secret, and a drill's `emptyDir`.
fn mounts_and_volumes(drill: bool, o: &Options) -> (String, String) {
    let work_dir = o.work_dir.unwrap_or(DEFAULT_WORK_DIR);
    let mut mounts = format!(
        "                - name: \"config\"\n                  mountPath: {}\n                  subPath: \"dbops.toml\"\n                  readOnly: true\n",
        q(CONFIG_PATH)
    );
    for (path, key) in o.files.iter().zip(file_keys(o.files)) {
        mounts.push_str(&format!(
            "                - name: \"secrets\"\n                  mountPath: {}\n                  subPath: {}\n                  readOnly: true\n",
            q(path),
            q(&key)
        ));
    }
    let mut volumes = format!(
        "            - name: \"config\"\n              configMap:\n                name: {}\n",
        q(o.config_map)
    );
    if !o.files.is_empty() {
        volumes.push_str(&format!(
            "            - name: \"secrets\"\n              secret:\n                secretName: {}\n                defaultMode: 256\n",
            q(o.secret)
        ));
    }
    if drill {
        mounts.push_str(&format!(
            "                - name: \"restore\"\n                  mountPath: {}\n",
            q(work_dir)
        ));
        let size = o
            .restore_size
            .map(|s| format!("\n                sizeLimit: {}", q(s)))
            .unwrap_or_default();
        volumes.push_str(&format!(
            "            - name: \"restore\"\n              emptyDir:{}\n",
            if size.is_empty() {
                " {}".to_string()
            } else {
                size
            }
        ));
    }
    (mounts, volumes)
}
