//! The machinery behind the registry's table: from one line per domain
//! (`Variant(field): DomainType = raw section`) the [`domains!`] macro
//! generates the desired and live state (one slot per domain), the
//! operation enum (one variant per domain), and each phase as a walk over
//! the domains in table order: resolve, summary, scope, observe, diff (with
//! the facts each domain publishes and reads), apply steps, what a stopped
//! apply leaves inconsistent, and health. A domain is never named here.

/// Generates the registry from its table; see the module documentation.
macro_rules! domains {
    ($raw:ident; $( $(#[$attr:meta])* $variant:ident($field:ident): $domain:ty = $section:expr, )+) => {
        /// Everything the file declares, resolved: one slot per domain,
        /// `None` when it is not declared or `--target` left it out.
        #[derive(Debug, Clone, Default)]
        pub(crate) struct DesiredState {
            $( $(#[$attr])* pub(crate) $field: Option<<$domain as Domain>::Desired>, )+
        }

        /// The live state of every domain read; serialized whole into a
        /// saved plan's fingerprint (secrets only in redacting types).
        #[derive(Debug, Clone, Default, Serialize)]
        pub(crate) struct LiveState {
            $( $(#[$attr])* pub(crate) $field: Option<<$domain as Domain>::Live>, )+
        }

        /// The work apply does: one variant per domain.
        #[derive(Debug, Clone)]
        pub(crate) enum Operation {
            $( $(#[$attr])* $variant(<$domain as Domain>::Operation), )+
        }

        impl Operation {
            /// The domain whose change this is: apply runs each run of one
            /// domain's changes as one step.
            pub(crate) fn domain(&self) -> DomainId {
                match self {
                    $( $(#[$attr])* Operation::$variant(_) => <$domain as Domain>::ID, )+
                }
            }
        }

        /// Every domain in table order, with the targets targeting it brings.
        fn domains_each() -> Vec<(DomainId, &'static [&'static str])> {
            let mut out = Vec::new();
            $( $(#[$attr])* {
                out.push((<$domain as Domain>::ID, <$domain as Domain>::TARGET_BRINGS));
            } )+
            out
        }

        fn resolve_each($raw: &RawConfig, facts: &mut Facts, r: &mut Resolver<'_>) -> DesiredState {
            // Struct fields are evaluated in the order written: table order.
            DesiredState {
                $( $(#[$attr])* $field: <$domain as Domain>::resolve($section, facts, r), )+
            }
        }

        fn summary_each(desired: &DesiredState) -> Vec<(&'static str, usize)> {
            let mut out = Vec::new();
            $( $(#[$attr])* {
                out.extend(<$domain as Domain>::summary(desired.$field.as_ref()));
            } )+
            out
        }

        fn restrict_each(desired: &mut DesiredState, scope: &Scope) -> Vec<&'static str> {
            let mut left_out = Vec::new();
            $( $(#[$attr])* {
                if !scope.includes(<$domain as Domain>::ID) && desired.$field.take().is_some() {
                    let word = <$domain as Domain>::ID.word;
                    if !left_out.contains(&word) {
                        left_out.push(word);
                    }
                }
            } )+
            left_out
        }

        /// Every declared domain observed at once (statements on the admin
        /// session pipeline); the first error in table order wins.
        async fn observe_each(desired: &DesiredState, context: &Observe<'_>) -> Result<LiveState> {
            let live = std::cell::RefCell::new(LiveState::default());
            let mut runs: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + '_>>> =
                Vec::new();
            $( $(#[$attr])* {
              if let Some(desired) = &desired.$field {
                let live = &live;
                runs.push(Box::pin(async move {
                    let observed = <$domain as Domain>::observe(desired, context).await?;
                    live.borrow_mut().$field = Some(observed);
                    Ok(())
                }));
              }
            } )+
            for outcome in futures_util::future::join_all(runs).await {
                outcome?;
            }
            Ok(live.into_inner())
        }

        fn statements_each(live: &LiveState) -> usize {
            let mut statements = 0;
            $( $(#[$attr])* {
                statements += live.$field.as_ref().map_or(0, <$domain as Domain>::statements);
            } )+
            statements
        }

        /// Each domain's diff in table order, each reading the facts of the
        /// domains before it and publishing its own.
        fn diff_each(
            desired: &DesiredState,
            live: &LiveState,
            facts: &mut Facts,
        ) -> std::result::Result<Plan<Operation>, Errors> {
            let mut plan = Plan::default();
            let mut errors = Vec::new();
            $( $(#[$attr])* {
              if let (Some(desired), Some(live)) = (&desired.$field, &live.$field) {
                let inputs = <$domain as Domain>::inputs(facts);
                match <$domain as Domain>::diff(desired, live, &inputs) {
                    Ok(diff) => {
                        <$domain as Domain>::publish(desired, live, &diff, facts);
                        plan.append(diff, Operation::$variant);
                    }
                    Err(e) => errors.extend(e.into_vec()),
                }
              }
            } )+
            if errors.is_empty() {
                Ok(plan)
            } else {
                Err(Errors::new(errors))
            }
        }

        /// One run of one domain's changes; what its apply outputs goes on the board.
        async fn apply_step_each(
            step: &[&Planned<Operation>],
            desired: &DesiredState,
            context: &mut Apply<'_>,
            sink: &dyn EventSink,
        ) -> Result<Facts> {
            let mut published = Facts::default();
            let Some(first) = step.first() else {
                return Ok(published);
            };
            match &first.operation {
                $( $(#[$attr])* Operation::$variant(_) => {
                    let owned = narrow(step, |o| match o {
                        Operation::$variant(operation) => Some(operation),
                        _ => None,
                    });
                    let refs: Vec<&Planned<_>> = owned.iter().collect();
                    let desired = desired.$field.as_ref().ok_or_else(|| {
                        Error::internal(format!("changes planned for `{}`, which is not declared", <$domain as Domain>::ID.name))
                    })?;
                    published.publish(<$domain as Domain>::apply(desired, &refs, context, sink).await?);
                } )+
            }
            Ok(published)
        }

        fn unapplied_each(not_applied: &[&Planned<Operation>], facts: &Facts) -> Vec<String> {
            let mut out = Vec::new();
            $( $(#[$attr])* {
                let mine = narrow(not_applied, |o| match o {
                    Operation::$variant(operation) => Some(operation),
                    _ => None,
                });
                if !mine.is_empty() {
                    let refs: Vec<&Planned<_>> = mine.iter().collect();
                    out.extend(<$domain as Domain>::unapplied(&refs, facts));
                }
            } )+
            out
        }

        fn rendered_each(desired: &DesiredState) -> Vec<crate::managed_files::RenderedFile> {
            let mut files = Vec::new();
            $( $(#[$attr])* {
                if let Some(desired) = &desired.$field {
                    files.extend(<$domain as Domain>::rendered(desired));
                }
            } )+
            files
        }

        async fn health_each(
            desired: &DesiredState,
            context: &Observe<'_>,
            sink: &dyn EventSink,
        ) -> Result<Health> {
            let mut all = Health::default();
            $( $(#[$attr])* {
                if let Some(desired) = &desired.$field {
                    let health = <$domain as Domain>::health(desired, context, sink).await?;
                    all.findings.extend(health.findings);
                    all.notes.extend(health.notes);
                    all.samples.extend(health.samples);
                }
            } )+
            Ok(all)
        }
    };
}

pub(crate) use domains;

/// One domain's changes out of a mixed list, with its own operations.
pub(crate) fn narrow<O: Clone, P>(
    changes: &[&crate::plan::Planned<P>],
    pick: impl Fn(&P) -> Option<&O>,
) -> Vec<crate::plan::Planned<O>> {
    changes
        .iter()
        .filter_map(|p| {
            pick(&p.operation).map(|operation| crate::plan::Planned {
                change: p.change.clone(),
                operation: operation.clone(),
            })
        })
        .collect()
}
