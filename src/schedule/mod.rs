//! `dbops schedule`: the jobs that keep the file's promises (drift nightly,
//! a dump as often as `[dumps] interval` asks, a restore test as often as
//! the drills' maximum age asks), rendered for the runner a team already
//! has: Kubernetes CronJobs, systemd service + timer units, or crontab
//! lines. Everything is read from the file alone (never a secret's value,
//! never a connection). [`jobs`] decides what runs when; each runner's
//! module only writes it in that runner's grammar, every value escaped the
//! way that runner parses it.

pub(crate) mod cron;
pub(crate) mod jobs;
pub(crate) mod kubernetes;
pub(crate) mod systemd;

pub(crate) use jobs::Job;
