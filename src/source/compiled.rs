//! A [`DecodeSpec`] compiled for one feature list: the trie of pointers to walk (and the
//! shorter one of the ordering scan), the member lookup of a features or probabilities
//! container, the categorical flags. What both ways of reading a message — the fast path
//! (`fast.rs`) and the walk (`visit.rs`, `walk.rs`) — read; [`super::Decoder`] picks the way.

use super::plan::{array_index, Container, Leaf, Lookup, Plan};
use super::spec::{DecodeSpec, EventTimeSpec, FeatureSpec, PredictionKind, SpecError, CLASS_PREFIX};

#[derive(Debug, Clone)]
pub(super) struct Compiled {
    pub(super) spec: DecodeSpec,
    pub(super) names: Vec<String>,
    pub(super) categorical: Vec<bool>,
    pub(super) plan: Plan,
    pub(super) time_plan: Plan,
    /// Keys of the features object / classes of the probabilities, per feature index.
    pub(super) lookup: Lookup,
    /// Probabilities array index → feature index.
    pub(super) by_index: Vec<Option<usize>>,
}

impl Compiled {
    /// Compiles `spec` for a stream whose features are `feature_names` (reference order).
    pub(super) fn new(spec: DecodeSpec, feature_names: Vec<String>) -> Result<Compiled, SpecError> {
        for (i, name) in feature_names.iter().enumerate() {
            if feature_names[..i].contains(name) {
                return Err(SpecError::DuplicateFeature(name.clone()));
            }
        }
        let mut plan = Plan::new();
        let mut time_plan = Plan::new();
        if let EventTimeSpec::Field { pointer, format } = &spec.event_time {
            plan.insert(pointer)?.leaves.push(Leaf::EventTime(*format));
            time_plan.insert(pointer)?.leaves.push(Leaf::EventTime(*format));
        }
        if let Some(pointer) = &spec.key {
            plan.insert(pointer)?.leaves.push(Leaf::Key);
        }
        let mut lookup = Lookup::default();
        let mut by_index = Vec::new();
        match &spec.features {
            FeatureSpec::Object { pointer } => {
                plan.insert(pointer)?.container = Some(Container::Features);
                lookup = Lookup::new(feature_names.iter().map(|n| n.as_str().into()).collect());
            }
            FeatureSpec::Pointers(list) => {
                for (i, name) in feature_names.iter().enumerate() {
                    plan.insert(&name_pointer(list, name)?)?.leaves.push(Leaf::Feature(i));
                }
            }
            FeatureSpec::Prediction { pointer, kind } => {
                let node = plan.insert(pointer)?;
                match kind {
                    PredictionKind::Score | PredictionKind::Label => {
                        if feature_names.len() != 1 {
                            return Err(SpecError::PredictionArity {
                                kind: if *kind == PredictionKind::Score { "score" } else { "label" },
                                found: feature_names.len(),
                                names: feature_names.join(", "),
                            });
                        }
                        node.leaves.push(if *kind == PredictionKind::Score { Leaf::Score(0) } else { Leaf::Label(0) });
                    }
                    PredictionKind::Probabilities { classes } => {
                        node.container = Some(Container::Probabilities);
                        let keys: Vec<Box<str>> = feature_names
                            .iter()
                            .map(|n| {
                                n.strip_prefix(CLASS_PREFIX).map(Into::into).ok_or(SpecError::NotAClass(n.clone()))
                            })
                            .collect::<Result<_, _>>()?;
                        lookup = Lookup::new(keys);
                        by_index = match classes {
                            Some(classes) => classes.iter().map(|c| lookup.find(c, usize::MAX)).collect(),
                            None => {
                                // Array positions past 65 535 are not looked up (a typo like
                                // `class:99999999` must not allocate a huge table).
                                let max =
                                    lookup.keys.iter().filter_map(|k| array_index(k)).filter(|&j| j < 1 << 16).max();
                                (0..max.map_or(0, |m| m + 1)).map(|j| lookup.find(&j.to_string(), usize::MAX)).collect()
                            }
                        };
                    }
                }
            }
        }
        let categorical = vec![false; feature_names.len()];
        Ok(Compiled { spec, names: feature_names, categorical, plan, time_plan, lookup, by_index })
    }
}

fn name_pointer(list: &[(String, String)], name: &str) -> Result<String, SpecError> {
    list.iter().find(|(n, _)| n == name).map(|(_, p)| p.clone()).ok_or_else(|| SpecError::UnmappedFeature(name.into()))
}
