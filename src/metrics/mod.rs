//! Prometheus metrics of one run, for node_exporter's textfile collector
//! (`--metrics-file`). This module owns the catalogue (each metric's name,
//! type, help and labels, defined once so every file dbops writes agrees, as
//! node_exporter requires), the samples a run collects, their text
//! exposition and the atomic write of the file.
//!
//! It never sees a secret: label values are command names, domain words,
//! finding ids and classes; values are counts, sizes, durations and
//! timestamps. Domains hand samples in through their health; commands add
//! their own; nothing here opens a connection.

pub mod catalogue;
mod exposition;
mod file;

pub(crate) use exposition::render_environments;
pub(crate) use file::{check_writable, previous_value, write};

/// The catalogue as rows for people and tests: name, type, labels (with
/// `command` first) and help, in file order.
pub fn catalogue_rows() -> Vec<[String; 4]> {
    catalogue::ALL
        .iter()
        .map(|metric| {
            let mut labels = vec!["command"];
            labels.extend_from_slice(metric.labels);
            [
                metric.name.to_string(),
                metric.kind.word().to_string(),
                labels.join(", "),
                metric.help.to_string(),
            ]
        })
        .collect()
}

/// Prometheus's metric types used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Gauge,
    Counter,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
        }
    }
}

/// One metric of the catalogue. Every series also carries `command`, first.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Metric {
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
    pub(crate) help: &'static str,
    /// Label names after `command`, in order.
    pub(crate) labels: &'static [&'static str],
}

/// One value of one series: the metric, its label values (in the metric's
/// label order) and the value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sample {
    pub(crate) metric: &'static Metric,
    pub(crate) labels: Vec<String>,
    pub(crate) value: f64,
}

impl Sample {
    pub(crate) fn new(metric: &'static Metric, value: f64) -> Self {
        Self {
            metric,
            labels: Vec::new(),
            value,
        }
    }

    /// The next label's value, in the order the catalogue names them.
    pub(crate) fn label(mut self, value: impl Into<String>) -> Self {
        self.labels.push(value.into());
        self
    }

    /// A point in time as seconds since the Unix epoch (0 before it).
    pub(crate) fn timestamp(metric: &'static Metric, at: std::time::SystemTime) -> Self {
        let seconds = at
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        Self::new(metric, (seconds * 1000.0).round() / 1000.0)
    }
}
