//! What runs when, from the file alone: the jobs of one environment (or of
//! a file without environments), their command lines, calendars and
//! deadlines, and the secrets they need. Pure: no runner's syntax here.

use std::time::Duration;

use crate::config::raw::RawConfig;
use crate::config::references::Reference;
use crate::secret::SecretRef;

/// When a job runs, as cron's five fields read it (`*` or a number each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Schedule {
    /// Every day at `hour:minute`.
    Daily { hour: u8, minute: u8 },
    /// Every `hours` hours (a divisor of 24), at `minute`.
    EveryHours { hours: u8, minute: u8 },
    /// Sundays at `hour:00`.
    Weekly { hour: u8 },
    /// The first of each month at `hour:00`.
    Monthly { hour: u8 },
}

impl Schedule {
    /// The five fields of a crontab line (and of a CronJob's `schedule`).
    pub(crate) fn cron(self) -> String {
        match self {
            Schedule::Daily { hour, minute } => format!("{minute} {hour} * * *"),
            Schedule::EveryHours { hours, minute } => format!("{minute} */{hours} * * *"),
            Schedule::Weekly { hour } => format!("0 {hour} * * 0"),
            Schedule::Monthly { hour } => format!("0 {hour} 1 * *"),
        }
    }

    /// systemd's `OnCalendar=`.
    pub(crate) fn calendar(self) -> String {
        match self {
            Schedule::Daily { hour, minute } => format!("*-*-* {hour:02}:{minute:02}:00"),
            Schedule::EveryHours { hours, minute } => format!("*-*-* 00/{hours}:{minute:02}:00"),
            Schedule::Weekly { hour } => format!("Sun *-*-* {hour:02}:00:00"),
            Schedule::Monthly { hour } => format!("*-*-01 {hour:02}:00:00"),
        }
    }
}

/// One scheduled run of dbops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Job {
    /// `drift`, `dump` or `drill`: part of unit, job and file names.
    pub(crate) word: &'static str,
    /// The environment it runs on, when the file declares environments.
    pub(crate) environment: Option<String>,
    /// dbops's arguments after the global ones: `drift`, `dump`, `restore-test`.
    pub(crate) command: &'static str,
    pub(crate) schedule: Schedule,
    /// How long the runner lets it run before killing it.
    pub(crate) deadline: Duration,
}

impl Job {
    /// `dbops-drift` or `dbops-drift-staging`: unit, CronJob and file names.
    pub(crate) fn name(&self) -> String {
        match &self.environment {
            Some(environment) => format!("dbops-{}-{environment}", self.word),
            None => format!("dbops-{}", self.word),
        }
    }

    /// dbops's arguments: the environment, the command, the metrics file.
    pub(crate) fn arguments(&self, file: &str, metrics_dir: Option<&str>) -> Vec<String> {
        let mut args = vec!["--file".to_string(), file.to_string()];
        if let Some(environment) = &self.environment {
            args.extend(["--environment".to_string(), environment.clone()]);
        }
        args.push(self.command.to_string());
        if let Some(dir) = metrics_dir {
            let dir = dir.trim_end_matches('/');
            args.extend([
                "--metrics-file".to_string(),
                format!("{dir}/{}.prom", self.name()),
            ]);
        }
        args
    }
}

/// The jobs `raw` (one environment's merged view) asks for.
pub(crate) fn jobs(raw: &RawConfig, environment: Option<&str>) -> Vec<Job> {
    let environment = environment.map(str::to_string);
    let mut out = vec![Job {
        word: "drift",
        environment: environment.clone(),
        command: "drift",
        schedule: Schedule::Daily { hour: 2, minute: 0 },
        deadline: Duration::from_secs(30 * 60),
    }];
    if let Some(dumps) = &raw.dumps {
        let interval = parse(&dumps.interval).unwrap_or(Duration::from_secs(86_400));
        out.push(Job {
            word: "dump",
            environment: environment.clone(),
            command: "dump",
            schedule: every(interval),
            deadline: interval.min(Duration::from_secs(86_400)),
        });
    }
    if raw.restore_test.is_some() {
        let max_age = raw
            .backup
            .as_ref()
            .and_then(|b| b.restore_test_max_age.as_deref())
            .or_else(|| {
                raw.dumps
                    .as_ref()
                    .and_then(|d| d.restore_test_max_age.as_deref())
            })
            .and_then(parse);
        let rto = raw
            .backup
            .as_ref()
            .and_then(|b| b.rto.as_deref())
            .or_else(|| raw.dumps.as_ref().and_then(|d| d.rto.as_deref()))
            .and_then(parse);
        let day = 86_400;
        let schedule = match max_age.map(|a| a.as_secs()) {
            Some(age) if age < 8 * day => Schedule::Daily { hour: 4, minute: 0 },
            Some(age) if age < 32 * day => Schedule::Weekly { hour: 4 },
            _ => Schedule::Monthly { hour: 4 },
        };
        out.push(Job {
            word: "drill",
            environment,
            command: "restore-test",
            schedule,
            // The drill fails past the RTO on its own; the runner's deadline
            // only stops one that hangs.
            deadline: rto.map_or(Duration::from_secs(4 * 3600), |rto| rto * 2)
                + Duration::from_secs(600),
        });
    }
    out
}

/// A dump at least as often as `interval`: every N hours, N dividing 24.
fn every(interval: Duration) -> Schedule {
    let hours = interval.as_secs() / 3600;
    if hours >= 24 {
        return Schedule::Daily { hour: 1, minute: 0 };
    }
    let hours = (1..=hours.max(1)).rev().find(|h| 24 % h == 0).unwrap_or(1) as u8;
    Schedule::EveryHours { hours, minute: 15 }
}

fn parse(text: &str) -> Option<Duration> {
    humantime::parse_duration(text.trim()).ok()
}

/// The environment variables and files the file references, once each.
pub(crate) fn secrets(references: &[Reference]) -> (Vec<String>, Vec<String>) {
    let mut variables = Vec::new();
    let mut files = Vec::new();
    for reference in references {
        match &reference.reference {
            SecretRef::Env(name) if !variables.contains(name) => variables.push(name.clone()),
            SecretRef::File(path) => {
                let path = path.display().to_string();
                if !files.contains(&path) {
                    files.push(path);
                }
            }
            SecretRef::Env(_) => {}
        }
    }
    (variables, files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendars_read_the_same_in_cron_and_systemd() {
        let cases = [
            (
                Schedule::Daily { hour: 2, minute: 0 },
                "0 2 * * *",
                "*-*-* 02:00:00",
            ),
            (
                Schedule::EveryHours {
                    hours: 6,
                    minute: 15,
                },
                "15 */6 * * *",
                "*-*-* 00/6:15:00",
            ),
            (
                Schedule::Weekly { hour: 4 },
                "0 4 * * 0",
                "Sun *-*-* 04:00:00",
            ),
            (
                Schedule::Monthly { hour: 4 },
                "0 4 1 * *",
                "*-*-01 04:00:00",
            ),
        ];
        for (schedule, cron, calendar) in cases {
            assert_eq!(schedule.cron(), cron);
            assert_eq!(schedule.calendar(), calendar);
        }
        assert_eq!(
            every(Duration::from_secs(5 * 3600)),
            Schedule::EveryHours {
                hours: 4,
                minute: 15
            }
        );
        assert_eq!(
            every(Duration::from_secs(48 * 3600)),
            Schedule::Daily { hour: 1, minute: 0 }
        );
    }
}
