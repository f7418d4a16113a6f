//! Unit tests of `statistic.rs`.

use super::*;

#[test]
fn the_registry_is_in_enum_order_and_every_stat_has_one_statistic() {
    for (i, spec) in SPECS.iter().enumerate() {
        assert_eq!(spec.statistic as usize, i, "{}", spec.name);
        assert_eq!(spec.statistic.name().parse::<Statistic>(), Ok(spec.statistic));
        assert!(spec.values.iter().any(|&(_, stat)| stat == spec.decided_by), "{}", spec.name);
    }
    for stat in Stat::ALL {
        let owners = SPECS.iter().filter(|spec| spec.values.iter().any(|&(_, s)| s == stat)).count();
        assert_eq!(owners, 1, "{stat}");
    }
    let in_registry_order: Vec<Stat> = SPECS.iter().flat_map(|spec| spec.values.iter().map(|&(_, s)| s)).collect();
    assert_eq!(in_registry_order, Stat::ALL);
}

#[test]
fn selections_parse_names_and_aliases() {
    let set: Statistics = "psi, js,chi2".parse().unwrap();
    assert_eq!(set.iter().collect::<Vec<_>>(), [Statistic::Psi, Statistic::Chisquare, Statistic::JensenShannon]);
    assert_eq!("all".parse::<Statistics>(), Ok(Statistics::ALL));
    assert!("psi,entropy".parse::<Statistics>().unwrap_err().contains("\"entropy\""));
    assert!([Stat::KsPValue, Stat::ChisquarePValue].iter().all(|s| s.is_p_value()));
    assert!(!Stat::KsStatistic.is_p_value() && !Stat::Psi.is_p_value());
}
