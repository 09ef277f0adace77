//! Rating tests: one group per charge pattern and special rule, each with a case under the cap,
//! over it, across a plan change and at its boundary. Prices are seed 003's USD examples where it
//! gives them; where it gives none (a second flavor, 8VM+ flat, Oracle, SQL Server, VPCF, VPN,
//! logical network, 10 Gbps CIC) the prices are made up and say so.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

use super::testutil::{d, t};
use super::*;

fn aug() -> Month {
    Month::parse("2019-08").unwrap()
}

fn sep() -> Month {
    Month::parse("2019-09").unwrap()
}

fn whole_aug() -> Period {
    Period::whole(aug())
}

/// 2019-08-`day` `h`:`m` UTC.
fn at(day: u32, h: u32, m: u32) -> DateTime<Utc> {
    t(2019, 8, day, h, m, 0)
}

fn mins(n: i64) -> Duration {
    Duration::minutes(n)
}

fn days(n: i64) -> Duration {
    Duration::days(n)
}

fn iv(plan: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> UsageInterval {
    UsageInterval::new(plan, start, Some(end))
}

fn res(id: &str, menu: &Menu) -> Resource {
    Resource::new(id, menu.code())
}

fn amounts(c: &ResourceCharge) -> Vec<String> {
    c.lines.iter().map(|l| l.amount.to_string()).collect()
}

fn kinds(c: &ResourceCharge) -> Vec<LineKind> {
    c.lines.iter().map(|l| l.kind).collect()
}

fn rate(menu: &Menu, r: &Resource) -> ResourceCharge {
    rate_resource(menu, r, &whole_aug()).unwrap()
}

fn tenant_total(menus: &[Menu], resources: &[Resource], period: &Period) -> String {
    rate_tenant(menus, resources, period)
        .unwrap()
        .total()
        .to_string()
}

// ---- menus (seed 003 USD examples unless marked hypothetical) ----

/// Image Storage / Private ISO: PAYG $0.000007 per GB-minute.
fn image_storage() -> Menu {
    Menu::new(
        "image-storage",
        "Image Storage",
        "Private ISO",
        Unit::Minute,
        ChargePattern::Payg,
        Currency::Usd,
    )
    .with_plan(PlanPrice::new("GB", d("0.000007")))
}

/// Virtual Server / Volume (15GB): capped PAYG $0.000164/min, cap $6.60. 30GB is hypothetical.
fn volume() -> Menu {
    Menu::new(
        "volume",
        "Virtual Server",
        "Volume",
        Unit::Minute,
        ChargePattern::CappedPayg,
        Currency::Usd,
    )
    .with_plan(PlanPrice::new("15GB", d("0.000164")).with_cap(d("6.60")))
    .with_plan(PlanPrice::new("30GB", d("0.000328")).with_cap(d("13.20")))
}

/// Virtual Server / Compute (1CPU-4GB, Running): $0.001885/min, cap $76.00, plan change allowed.
/// 2CPU-8GB ($0.003770, $152.00) is hypothetical (twice 1CPU-4GB).
fn compute() -> Menu {
    Menu::new(
        "compute",
        "Virtual Server",
        "Compute",
        Unit::Minute,
        ChargePattern::CappedPaygPlanChange,
        Currency::Usd,
    )
    .with_plan(
        PlanPrice::new("1CPU-4GB", d("0.001885"))
            .with_cap(d("76.00"))
            .with_label("Flavor (1CPU-4GB)"),
    )
    .with_plan(
        PlanPrice::new("2CPU-8GB", d("0.003770"))
            .with_cap(d("152.00"))
            .with_label("Flavor (2CPU-8GB)"),
    )
}

/// Baremetal Server / OS (RHEL, GP2): monthly fixed $118.00. "RHEL GP3" ($150) is hypothetical.
fn baremetal_os() -> Menu {
    Menu::new(
        "bm-os",
        "Baremetal Server",
        "OS",
        Unit::Month,
        ChargePattern::MonthlyFixed,
        Currency::Usd,
    )
    .with_plan(PlanPrice::new("RHEL GP2", d("118.00")))
    .with_plan(PlanPrice::new("RHEL GP3", d("150.00")))
}

/// Monitoring: Basic free, Advanced Plan $23.00 monthly fixed; Additional Alarm ($5) hypothetical.
fn monitoring() -> Menu {
    Menu::new(
        "monitoring",
        "Monitoring",
        "Monitoring",
        Unit::Month,
        ChargePattern::MonthlyFixed,
        Currency::Usd,
    )
    .with_rule(SpecialRule::Monitoring {
        basic_plan: "Basic".into(),
    })
    .with_plan(PlanPrice::new("Basic", d("0")))
    .with_plan(PlanPrice::new("Advanced", d("23.00")))
    .with_plan(PlanPrice::new("Additional Alarm", d("5.00")))
}

/// Colocation Interconnectivity (1Gbps): $630 monthly fixed.
fn cic_1g() -> Menu {
    Menu::new(
        "cic-1g",
        "CIC",
        "Colocation Interconnectivity",
        Unit::Month,
        ChargePattern::MonthlyFixed,
        Currency::Usd,
    )
    .with_rule(SpecialRule::Cic {
        speed: CicSpeed::OneGbps,
    })
    .with_plan(PlanPrice::new("1Gbps", d("630")))
}

/// 10 Gbps link, hypothetical $3150.
fn cic_10g() -> Menu {
    Menu::new(
        "cic-10g",
        "CIC",
        "Colocation Interconnectivity",
        Unit::Month,
        ChargePattern::MonthlyFixed,
        Currency::Usd,
    )
    .with_rule(SpecialRule::Cic {
        speed: CicSpeed::TenGbps,
    })
    .with_plan(PlanPrice::new("10Gbps", d("3150")))
}

/// Guest Image / Windows Server for Hyper-V / General Purpose 3: $111 per VM up to 7 VMs;
/// the 8VM+ flat price ($850) is hypothetical (seed 003 does not give it).
fn guest_image() -> Menu {
    Menu::new(
        "gi-win",
        "Guest Image",
        "Windows Server for Hyper-V",
        Unit::Month,
        ChargePattern::MonthlyFixed,
        Currency::Usd,
    )
    .with_rule(SpecialRule::WindowsGuestImage {
        flat_8_plus: d("850"),
    })
    .with_plan(PlanPrice::new("General Purpose 3", d("111")))
}

/// Cloud Foundry / Shared (128MB): $0.000005/second, 500 instance-hours' worth = $9.00.
/// 256MB ($0.00001/s) is hypothetical.
fn cf_shared() -> Menu {
    Menu::new(
        "cf-shared",
        "Cloud Foundry",
        "Shared",
        Unit::Second,
        ChargePattern::CappedPayg,
        Currency::Usd,
    )
    .with_rule(SpecialRule::CloudFoundryShared)
    .with_plan(PlanPrice::new("128MB", d("0.000005")))
    .with_plan(PlanPrice::new("256MB", d("0.00001")))
}

/// Hypothetical logical network: $0.0001/min, cap $4.00.
fn logical_network() -> Menu {
    Menu::new(
        "ln",
        "Logical Network",
        "Network",
        Unit::Minute,
        ChargePattern::CappedPayg,
        Currency::Usd,
    )
    .with_rule(SpecialRule::LogicalNetwork)
    .with_plan(
        PlanPrice::new("network", d("0.0001"))
            .with_cap(d("4.00"))
            .without_tier(),
    )
}

/// Hypothetical Oracle SE2: per-minute two-phase capped, $50 Windows fee when `windows`.
fn oracle(windows: bool) -> Menu {
    Menu::new(
        "oracle",
        "Oracle",
        "Oracle SE2",
        Unit::Minute,
        ChargePattern::CappedPaygPlanChange,
        Currency::Usd,
    )
    .with_rule(SpecialRule::Oracle {
        windows_monthly_fee: windows.then(|| d("50")),
    })
    .with_plan(PlanPrice::new("2vCPU", d("0.010")).with_cap(d("400")))
    .with_plan(PlanPrice::new("4vCPU", d("0.020")).with_cap(d("800")))
}

/// Hypothetical SQL Server prices per flavor (virtual server).
fn sql_vs() -> Menu {
    Menu::new(
        "sql-vs",
        "SQL Server",
        "SQL Server Standard",
        Unit::Month,
        ChargePattern::MonthlyFixed,
        Currency::Usd,
    )
    .with_rule(SpecialRule::SqlServer {
        basis: SqlServerBasis::VirtualServer,
    })
    .with_plan(PlanPrice::new("2vCPU-8GB", d("100")).with_vcpus(2))
    .with_plan(PlanPrice::new("4vCPU-16GB", d("200")).with_vcpus(4))
    .with_plan(PlanPrice::new("8vCPU-32GB", d("400")).with_vcpus(8))
}

/// Hypothetical SQL Server per vCPU on a dedicated hypervisor: $25 per vCPU.
fn sql_dh() -> Menu {
    Menu::new(
        "sql-dh",
        "SQL Server",
        "SQL Server Standard (DH)",
        Unit::Month,
        ChargePattern::MonthlyFixed,
        Currency::Usd,
    )
    .with_rule(SpecialRule::SqlServer {
        basis: SqlServerBasis::DedicatedHypervisor,
    })
    .with_plan(PlanPrice::new("per vCPU", d("25")))
}

/// Hypothetical Virtual Private CF: routers $0.005/min (cap $200 each), cells $0.01/min
/// (cap $400 each); the interval quantity is the number of routers / cells.
fn vpcf() -> Menu {
    Menu::new(
        "vpcf",
        "Cloud Foundry",
        "Virtual Private",
        Unit::Minute,
        ChargePattern::CappedPayg,
        Currency::Usd,
    )
    .with_rule(SpecialRule::VirtualPrivateCf)
    .with_plan(PlanPrice::new("router", d("0.005")).with_cap(d("200")))
    .with_plan(PlanPrice::new("cell", d("0.01")).with_cap(d("400")))
}

/// Hypothetical VPN: prorated daily $10/day (100M) and $30/day (1G); "capped" variant $250.
fn vpn() -> Menu {
    Menu::new(
        "vpn",
        "VPN",
        "VPN Connectivity",
        Unit::Day,
        ChargePattern::ProratedDaily,
        Currency::Usd,
    )
    .with_plan(PlanPrice::new("100M", d("10")))
    .with_plan(PlanPrice::new("1G", d("30")))
    .with_plan(PlanPrice::new("100M-capped", d("10")).with_cap(d("250")))
}

// ---------------------------------------------------------------- PAYG

#[test]
fn payg_is_usage_times_price_without_limit() {
    let m = image_storage();
    // 10 GB all August: 10 × 44640 min × 0.000007
    let r = res("iso", &m).with_interval(iv("GB", aug().start(), aug().end()).with_quantity(10));
    let c = rate(&m, &r);
    assert_eq!(amounts(&c), ["3.124800"]);
    assert_eq!(c.lines[0].quantity, d("446400"));
    assert_eq!(c.lines[0].unit, Unit::Minute);
    // a thousand GB: still no cap
    let r = res("iso", &m).with_interval(iv("GB", aug().start(), aug().end()).with_quantity(1000));
    assert_eq!(rate(&m, &r).total().to_string(), "312.480000");
}

#[test]
fn payg_charges_the_exact_usage_not_the_rounded_up_display() {
    let m = compute();
    let mut payg = m.clone();
    payg.pattern = ChargePattern::Payg;
    // 90 seconds = 1.5 minutes × 0.001885 = 0.0028275 → rounded down 0.002827
    let r = res("vm", &payg).with_interval(iv(
        "1CPU-4GB",
        at(1, 0, 0),
        at(1, 0, 1) + Duration::seconds(30),
    ));
    let c = rate(&payg, &r);
    assert_eq!(c.lines[0].quantity, d("1.5"));
    assert_eq!(amounts(&c), ["0.002827"]);
}

#[test]
fn payg_across_a_plan_change_sums_the_plans() {
    let mut m = compute();
    m.pattern = ChargePattern::Payg;
    let r = res("vm", &m)
        .with_interval(iv("1CPU-4GB", aug().start(), at(21, 0, 0)))
        .with_interval(iv("2CPU-8GB", at(21, 0, 0), aug().end()));
    let c = rate(&m, &r);
    // 20 days 54.288 + 11 days 59.7168, and nothing capped even when both run long
    assert_eq!(amounts(&c), ["54.288000", "59.716800"]);
    assert_eq!(c.total().to_string(), "114.004800");
}

#[test]
fn usage_is_clipped_to_the_month_and_to_the_estimate_cut_off() {
    let m = image_storage();
    // started in July, stops 2019-08-02 00:00: only 1 day (1440 min) in August
    let r = res("iso", &m).with_interval(iv("GB", t(2019, 7, 20, 0, 0, 0), at(2, 0, 0)));
    assert_eq!(rate(&m, &r).lines[0].quantity, d("1440"));
    // an interval ending exactly at the month start is not August usage at all
    let r = res("iso", &m).with_interval(iv("GB", t(2019, 7, 20, 0, 0, 0), aug().start()));
    assert!(rate(&m, &r).lines.is_empty());
    // still running: the estimate on 08-10 00:00 counts 9 days
    let r = res("iso", &m).with_interval(UsageInterval::new("GB", aug().start(), None));
    let c = rate_resource(&m, &r, &Period::until(aug(), at(10, 0, 0))).unwrap();
    assert_eq!(c.lines[0].quantity, d("12960"));
    // and the closed month counts all 31 days
    assert_eq!(rate(&m, &r).lines[0].quantity, d("44640"));
}

// ---------------------------------------------------------------- capped PAYG

#[test]
fn capped_payg_under_the_cap() {
    let m = volume();
    let r = res("vol", &m).with_interval(iv("15GB", at(1, 0, 0), at(1, 0, 0) + mins(1000)));
    let c = rate(&m, &r);
    assert_eq!(amounts(&c), ["0.164000"]);
    assert_eq!(kinds(&c), [LineKind::Usage]);
}

#[test]
fn capped_payg_over_the_cap_adds_a_cap_line() {
    let m = volume();
    let r = res("vol", &m).with_interval(iv("15GB", aug().start(), aug().end()));
    let c = rate(&m, &r);
    assert_eq!(amounts(&c), ["7.320960", "-0.720960"]);
    assert_eq!(kinds(&c), [LineKind::Usage, LineKind::Cap]);
    assert_eq!(c.total().to_string(), "6.600000");
}

#[test]
fn capped_payg_boundary_at_the_cap() {
    let m = volume();
    // 6.60 / 0.000164 = 40243.9 minutes (≈ 27.95 days)
    let under = res("vol", &m).with_interval(iv("15GB", at(1, 0, 0), at(1, 0, 0) + mins(40243)));
    assert_eq!(amounts(&rate(&m, &under)), ["6.599852"]);
    let over = res("vol", &m).with_interval(iv("15GB", at(1, 0, 0), at(1, 0, 0) + mins(40244)));
    let c = rate(&m, &over);
    assert_eq!(amounts(&c), ["6.600016", "-0.000016"]);
    assert_eq!(c.total().to_string(), "6.600000");
}

#[test]
fn capped_payg_reaches_the_cap_after_about_28_days() {
    let mut m = compute();
    m.pattern = ChargePattern::CappedPayg;
    let run = |minutes: i64| {
        let r =
            res("vm", &m).with_interval(iv("1CPU-4GB", at(1, 0, 0), at(1, 0, 0) + mins(minutes)));
        rate(&m, &r).total().to_string()
    };
    assert_eq!(run(27 * 1440), "73.288800"); // 27 days: under the cap
    assert_eq!(run(40318), "75.999430"); // the last minute under $76.00
    assert_eq!(run(40319), "76.000000"); // one more minute: capped
    assert_eq!(run(28 * 1440), "76.000000"); // 28 days: at the cap (76.0032 before it)
    assert_eq!(run(31 * 1440), "76.000000");
}

#[test]
fn capped_payg_with_several_plans_caps_each_plan_without_phase_two() {
    let m = volume();
    // 15GB 29 days (68.4896... capped 6.60), then 30GB 2 days: 2880 × 0.000328 = 0.944640
    let r = res("vol", &m)
        .with_interval(iv("15GB", aug().start(), at(30, 0, 0)))
        .with_interval(iv("30GB", at(30, 0, 0), aug().end()));
    let c = rate(&m, &r);
    assert_eq!(kinds(&c), [LineKind::Usage, LineKind::Cap, LineKind::Usage]);
    assert_eq!(c.total().to_string(), "7.544640");
}

#[test]
fn cap_scales_with_the_quantity() {
    let mut m = compute();
    m.pattern = ChargePattern::CappedPayg;
    // 3 VMs of one plan all month: 3 × 84.1344 capped at 3 × 76
    let r =
        res("vms", &m).with_interval(iv("1CPU-4GB", aug().start(), aug().end()).with_quantity(3));
    assert_eq!(rate(&m, &r).total().to_string(), "228.000000");
}

// ---------------------------------------------------------------- two-phase cap

#[test]
fn two_phase_single_plan_under_and_over() {
    let m = compute();
    let r = res("vm", &m).with_interval(
        iv("1CPU-4GB", at(1, 0, 0), at(1, 0, 0) + mins(3739)).with_status("Running"),
    );
    let c = rate(&m, &r);
    assert_eq!(amounts(&c), ["7.048015"]);
    assert_eq!(c.lines[0].status.as_deref(), Some("Running"));
    assert_eq!(c.lines[0].tier_label.as_deref(), Some("Flavor (1CPU-4GB)"));
    let r = res("vm", &m).with_interval(iv("1CPU-4GB", aug().start(), aug().end()));
    assert_eq!(rate(&m, &r).total().to_string(), "76.000000");
}

#[test]
fn two_phase_upgrade_under_both_caps_is_the_plain_sum() {
    let m = compute();
    let r = res("vm", &m)
        .with_interval(iv("1CPU-4GB", aug().start(), at(21, 0, 0)))
        .with_interval(iv("2CPU-8GB", at(21, 0, 0), aug().end()));
    let c = rate(&m, &r);
    assert_eq!(amounts(&c), ["54.288000", "59.716800"]);
    assert_eq!(c.total().to_string(), "114.004800");
}

#[test]
fn two_phase_phase_one_caps_each_plan() {
    let m = compute();
    // 1CPU-4GB 30 days: 81.432 → 76; then 2CPU-8GB 1 day: 5.4288; Σ 81.4288 < max cap 152
    let r = res("vm", &m)
        .with_interval(iv("1CPU-4GB", aug().start(), at(31, 0, 0)))
        .with_interval(iv("2CPU-8GB", at(31, 0, 0), aug().end()));
    let c = rate(&m, &r);
    assert_eq!(amounts(&c), ["81.432000", "-5.432000", "5.428800"]);
    assert_eq!(kinds(&c), [LineKind::Usage, LineKind::Cap, LineKind::Usage]);
    assert_eq!(c.lines[1].plan.as_deref(), Some("1CPU-4GB"));
    assert_eq!(c.total().to_string(), "81.428800");
}

#[test]
fn two_phase_phase_two_caps_at_the_largest_cap_of_the_month() {
    let m = compute();
    // downgrade: 2CPU-8GB 30 days 162.864 → 152; 1CPU-4GB 1 day 2.7144; Σ 154.7144 → max cap 152
    let r = res("vm", &m)
        .with_interval(iv("2CPU-8GB", aug().start(), at(31, 0, 0)))
        .with_interval(iv("1CPU-4GB", at(31, 0, 0), aug().end()));
    let c = rate(&m, &r);
    assert_eq!(
        amounts(&c),
        ["162.864000", "-10.864000", "2.714400", "-2.714400"]
    );
    assert_eq!(
        kinds(&c),
        [
            LineKind::Usage,
            LineKind::Cap,
            LineKind::Usage,
            LineKind::Cap
        ]
    );
    assert_eq!(
        c.lines[3].plan, None,
        "the phase-II cap belongs to the resource, not a plan"
    );
    assert_eq!(c.total().to_string(), "152.000000");
}

#[test]
fn two_phase_plan_changed_back_and_forth_sums_durations_of_the_same_plan() {
    let m = compute();
    // A 15 d, B 1 d, A 15 d: A's two durations are one plan: 43200 min = 81.432 → 76.
    // (Capping each duration alone would have given 40.716 + 40.716 = 81.432.)
    let r = res("vm", &m)
        .with_interval(iv("1CPU-4GB", aug().start(), at(16, 0, 0)))
        .with_interval(iv("2CPU-8GB", at(16, 0, 0), at(17, 0, 0)))
        .with_interval(iv("1CPU-4GB", at(17, 0, 0), aug().end()));
    let c = rate(&m, &r);
    assert_eq!(c.lines[0].quantity, d("43200"));
    assert_eq!(amounts(&c), ["81.432000", "-5.432000", "5.428800"]);
    assert_eq!(c.total().to_string(), "81.428800");

    // B 16 d, A 1 d, B 14 d: B 30 d → 152, A 2.7144, phase II → 152
    let r = res("vm", &m)
        .with_interval(iv("2CPU-8GB", aug().start(), at(17, 0, 0)))
        .with_interval(iv("1CPU-4GB", at(17, 0, 0), at(18, 0, 0)))
        .with_interval(iv("2CPU-8GB", at(18, 0, 0), aug().end()));
    assert_eq!(rate(&m, &r).total().to_string(), "152.000000");
}

#[test]
fn two_phase_keeps_status_lines_apart_within_a_plan() {
    let m = compute();
    let r = res("vm", &m)
        .with_interval(iv("1CPU-4GB", aug().start(), at(11, 0, 0)).with_status("Running"))
        .with_interval(iv("1CPU-4GB", at(11, 0, 0), at(21, 0, 0)).with_status("Stopped"))
        .with_interval(iv("1CPU-4GB", at(21, 0, 0), aug().end()).with_status("Running"));
    let c = rate(&m, &r);
    let statuses: Vec<_> = c.lines.iter().map(|l| l.status.as_deref()).collect();
    assert_eq!(statuses, [Some("Running"), Some("Stopped"), None]);
    assert_eq!(c.lines[0].quantity, d(&(21 * 1440).to_string()));
    assert_eq!(c.total().to_string(), "76.000000");
}

// ---------------------------------------------------------------- monthly fixed

#[test]
fn monthly_fixed_does_not_depend_on_duration() {
    let m = baremetal_os();
    let whole = res("bm", &m).with_interval(iv("RHEL GP2", aug().start(), aug().end()));
    assert_eq!(amounts(&rate(&m, &whole)), ["118.000000"]);
    let one_minute = res("bm", &m).with_interval(iv("RHEL GP2", at(31, 23, 59), aug().end()));
    assert_eq!(amounts(&rate(&m, &one_minute)), ["118.000000"]);
    // running since July: one monthly charge
    let since_july =
        res("bm", &m).with_interval(UsageInterval::new("RHEL GP2", t(2019, 7, 3, 0, 0, 0), None));
    let c = rate(&m, &since_july);
    assert_eq!(
        (amounts(&c), c.lines[0].quantity),
        (vec!["118.000000".to_owned()], d("1"))
    );
    assert_eq!(c.lines[0].unit, Unit::Month);
}

#[test]
fn monthly_fixed_n_starts_and_terminations_cost_n_times() {
    let m = baremetal_os();
    let r = res("bm", &m)
        .with_interval(iv("RHEL GP2", at(1, 0, 0), at(2, 0, 0)))
        .with_interval(iv("RHEL GP2", at(10, 0, 0), at(11, 0, 0)))
        .with_interval(iv("RHEL GP2", at(20, 0, 0), at(21, 0, 0)));
    let c = rate(&m, &r);
    assert_eq!(c.lines.len(), 1);
    assert_eq!(c.lines[0].quantity, d("3"));
    assert_eq!(c.total().to_string(), "354.000000");
}

#[test]
fn monthly_fixed_plan_change_without_a_gap_is_one_charge_at_the_larger_price() {
    let m = baremetal_os();
    let r = res("bm", &m)
        .with_interval(iv("RHEL GP2", aug().start(), at(15, 0, 0)))
        .with_interval(iv("RHEL GP3", at(15, 0, 0), aug().end()));
    let c = rate(&m, &r);
    assert_eq!(c.lines.len(), 1);
    assert_eq!(c.lines[0].plan.as_deref(), Some("RHEL GP3"));
    assert_eq!(c.total().to_string(), "150.000000");
    // with a gap (terminated, started again): two charges
    let r = res("bm", &m)
        .with_interval(iv("RHEL GP2", aug().start(), at(15, 0, 0)))
        .with_interval(iv("RHEL GP3", at(15, 0, 1), aug().end()));
    assert_eq!(rate(&m, &r).total().to_string(), "268.000000");
}

// ---------------------------------------------------------------- prorated daily

#[test]
fn prorated_daily_counts_utc_days_touched() {
    let m = vpn();
    let one_hour = res("vpn", &m).with_interval(iv("100M", at(5, 10, 0), at(5, 11, 0)));
    let c = rate(&m, &one_hour);
    assert_eq!(
        (c.lines[0].quantity, c.total().to_string()),
        (d("1"), "10.000000".to_owned())
    );
    // 23:00 → 01:00 touches two days
    let over_midnight = res("vpn", &m).with_interval(iv("100M", at(5, 23, 0), at(6, 1, 0)));
    assert_eq!(rate(&m, &over_midnight).total().to_string(), "20.000000");
    // ending exactly at midnight does not touch the next day
    let to_midnight = res("vpn", &m).with_interval(iv("100M", at(5, 23, 0), at(6, 0, 0)));
    assert_eq!(rate(&m, &to_midnight).total().to_string(), "10.000000");
    // two intervals the same day: one day
    let twice = res("vpn", &m)
        .with_interval(iv("100M", at(5, 1, 0), at(5, 2, 0)))
        .with_interval(iv("100M", at(5, 3, 0), at(5, 4, 0)));
    assert_eq!(rate(&m, &twice).total().to_string(), "10.000000");
    let whole = res("vpn", &m).with_interval(iv("100M", aug().start(), aug().end()));
    assert_eq!(rate(&m, &whole).total().to_string(), "310.000000");
}

#[test]
fn prorated_daily_plan_change_charges_the_change_day_for_both_plans() {
    let m = vpn();
    let r = res("vpn", &m)
        .with_interval(iv("100M", aug().start(), at(11, 12, 0)))
        .with_interval(iv("1G", at(11, 12, 0), aug().end()));
    let c = rate(&m, &r);
    // 100M: Aug 1–11 = 11 days × 10; 1G: Aug 11–31 = 21 days × 30
    assert_eq!(
        c.lines.iter().map(|l| l.quantity).collect::<Vec<_>>(),
        [d("11"), d("21")]
    );
    assert_eq!(c.total().to_string(), "740.000000");
}

#[test]
fn prorated_daily_with_a_cap_under_at_and_over() {
    let m = vpn();
    let run = |n: i64| {
        let r =
            res("vpn", &m).with_interval(iv("100M-capped", aug().start(), aug().start() + days(n)));
        let c = rate(&m, &r);
        (c.lines.len(), c.total().to_string())
    };
    assert_eq!(run(24), (1, "240.000000".to_owned()));
    assert_eq!(run(25), (1, "250.000000".to_owned()));
    assert_eq!(run(26), (2, "250.000000".to_owned()));
}

// ---------------------------------------------------------------- logical network

fn networks(n: usize, start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<Resource> {
    let m = logical_network();
    (0..n)
        .map(|i| res(&format!("ln{i}"), &m).with_interval(iv("network", start, end)))
        .collect()
}

#[test]
fn logical_network_is_capped_per_network() {
    let m = logical_network();
    let r = &networks(1, aug().start(), aug().end())[0];
    // 44640 × 0.0001 = 4.464 → cap 4.00
    let c = rate(&m, r);
    assert_eq!(amounts(&c), ["4.464000", "-0.464000"]);
    assert_eq!(
        c.lines[0].tier_label, None,
        "a logical network has no plan tier"
    );
}

#[test]
fn logical_network_up_to_five_networks_are_free() {
    let m = [logical_network()];
    // one network, a few days: its whole charge comes back as a free line
    let one = networks(1, at(1, 0, 0), at(1, 0, 0) + mins(3741));
    let tc = rate_tenant(&m, &one, &whole_aug()).unwrap();
    assert_eq!(tc.resources[0].total().to_string(), "0.374100");
    assert_eq!(tc.tenant_lines.len(), 1);
    assert_eq!(
        tc.tenant_lines[0].line.kind,
        LineKind::Free(FreeReason::LogicalNetworkAllowance)
    );
    assert_eq!(tc.tenant_lines[0].line.amount.to_string(), "-0.374100");
    assert_eq!(tc.total().to_string(), "0.000000");
    // five whole-month networks: 5 × 4.00 free
    assert_eq!(
        tenant_total(&m, &networks(5, aug().start(), aug().end()), &whole_aug()),
        "0.000000"
    );
}

#[test]
fn logical_network_sixth_and_later_networks_are_charged() {
    let m = [logical_network()];
    assert_eq!(
        tenant_total(&m, &networks(6, aug().start(), aug().end()), &whole_aug()),
        "4.000000"
    );
    assert_eq!(
        tenant_total(&m, &networks(7, aug().start(), aug().end()), &whole_aug()),
        "8.000000"
    );
    // ten networks for half a month each (2.232 each): 22.32 − the five-network allowance 20.00
    let half = networks(10, aug().start(), aug().start() + mins(22320));
    assert_eq!(tenant_total(&m, &half, &whole_aug()), "2.320000");
}

// ---------------------------------------------------------------- CIC

fn link(id: &str, menu: &Menu, start: DateTime<Utc>, end: DateTime<Utc>) -> Resource {
    let plan = menu.plans[0].plan.clone();
    res(id, menu).with_interval(iv(&plan, start, end))
}

#[test]
fn cic_one_1g_link_per_tenant_is_free() {
    let m = [cic_1g(), cic_10g()];
    let one = [link("a", &m[0], aug().start(), aug().end())];
    let tc = rate_tenant(&m, &one, &whole_aug()).unwrap();
    assert_eq!(tc.resources[0].total().to_string(), "630.000000");
    assert_eq!(
        tc.tenant_lines[0].line.kind,
        LineKind::Free(FreeReason::CicOneGbpsLink)
    );
    assert_eq!(tc.total().to_string(), "0.000000");
    // (2 − 1) × 630
    let two = [
        link("a", &m[0], aug().start(), aug().end()),
        link("b", &m[0], at(20, 0, 0), aug().end()),
    ];
    assert_eq!(tenant_total(&m, &two, &whole_aug()), "630.000000");
    // a link of one minute is a whole month, and is the free one
    let short = [link("a", &m[0], at(20, 0, 0), at(20, 0, 1))];
    assert_eq!(tenant_total(&m, &short, &whole_aug()), "0.000000");
}

#[test]
fn cic_10g_links_are_never_free() {
    let m = [cic_1g(), cic_10g()];
    let mixed = [
        link("a", &m[0], aug().start(), aug().end()),
        link("x", &m[1], aug().start(), aug().end()),
    ];
    assert_eq!(tenant_total(&m, &mixed, &whole_aug()), "3150.000000");
    let only_10g = [
        link("x", &m[1], aug().start(), aug().end()),
        link("y", &m[1], aug().start(), aug().end()),
    ];
    let tc = rate_tenant(&m, &only_10g, &whole_aug()).unwrap();
    assert!(tc.tenant_lines.is_empty());
    assert_eq!(tc.total().to_string(), "6300.000000");
}

#[test]
fn cic_free_link_is_one_link_month_even_when_restarted() {
    let m = [cic_1g()];
    let r = [res("a", &m[0])
        .with_interval(iv("1Gbps", at(1, 0, 0), at(2, 0, 0)))
        .with_interval(iv("1Gbps", at(10, 0, 0), aug().end()))];
    // 2 × 630 − 630
    assert_eq!(tenant_total(&m, &r, &whole_aug()), "630.000000");
}

// ---------------------------------------------------------------- Windows guest image

fn vms(menu: &Menu, n: u32) -> Resource {
    res("gi", menu)
        .with_interval(iv("General Purpose 3", aug().start(), aug().end()).with_quantity(n))
}

#[test]
fn guest_image_up_to_seven_vms_is_price_times_vms() {
    let m = guest_image();
    assert_eq!(rate(&m, &vms(&m, 1)).total().to_string(), "111.000000");
    assert_eq!(rate(&m, &vms(&m, 7)).total().to_string(), "777.000000");
}

#[test]
fn guest_image_eight_or_more_vms_is_the_flat_price() {
    let m = guest_image();
    assert_eq!(rate(&m, &vms(&m, 8)).total().to_string(), "850.000000"); // not 8 × 111 = 888
    assert_eq!(rate(&m, &vms(&m, 20)).total().to_string(), "850.000000");
    assert_eq!(rate(&m, &vms(&m, 8)).quantity, d("8"));
}

#[test]
fn guest_image_vm_count_change_uses_the_largest_count() {
    let m = guest_image();
    let r = res("gi", &m)
        .with_interval(iv("General Purpose 3", aug().start(), at(10, 0, 0)).with_quantity(3))
        .with_interval(iv("General Purpose 3", at(10, 0, 0), at(20, 0, 0)).with_quantity(9))
        .with_interval(iv("General Purpose 3", at(20, 0, 0), aug().end()).with_quantity(2));
    assert_eq!(rate(&m, &r).total().to_string(), "850.000000");
    // terminated with 5 VMs, started again with 8: two monthly charges
    let r = res("gi", &m)
        .with_interval(iv("General Purpose 3", aug().start(), at(10, 0, 0)).with_quantity(5))
        .with_interval(iv("General Purpose 3", at(12, 0, 0), aug().end()).with_quantity(8));
    let c = rate(&m, &r);
    assert_eq!(amounts(&c), ["555.000000", "850.000000"]);
}

// ---------------------------------------------------------------- Oracle

#[test]
fn oracle_is_two_phase_capped_payg() {
    let m = oracle(false);
    let under = res("o", &m).with_interval(iv("2vCPU", at(1, 0, 0), at(11, 0, 0)));
    assert_eq!(rate(&m, &under).total().to_string(), "144.000000"); // 14400 min × 0.01
    let over = res("o", &m).with_interval(iv("2vCPU", aug().start(), aug().end()));
    assert_eq!(rate(&m, &over).total().to_string(), "400.000000");
    // 2vCPU 30 d → 400 (cap), 4vCPU 1 d = 28.80; Σ 428.80 < 800
    let change = res("o", &m)
        .with_interval(iv("2vCPU", aug().start(), at(31, 0, 0)))
        .with_interval(iv("4vCPU", at(31, 0, 0), aug().end()));
    assert_eq!(rate(&m, &change).total().to_string(), "428.800000");
    // 4vCPU 30 d → 800, 2vCPU 1 d 14.40: phase II → 800
    let down = res("o", &m)
        .with_interval(iv("4vCPU", aug().start(), at(31, 0, 0)))
        .with_interval(iv("2vCPU", at(31, 0, 0), aug().end()));
    assert_eq!(rate(&m, &down).total().to_string(), "800.000000");
}

#[test]
fn oracle_on_windows_adds_the_monthly_fixed_fee() {
    let m = oracle(true);
    let over = res("o", &m).with_interval(iv("2vCPU", aug().start(), aug().end()));
    let c = rate(&m, &over);
    assert_eq!(amounts(&c), ["446.400000", "-46.400000", "50.000000"]);
    assert_eq!(c.lines[2].unit, Unit::Month);
    assert_eq!(c.total().to_string(), "450.000000");
    // plan change without a gap: the fee once
    let change = res("o", &m)
        .with_interval(iv("2vCPU", aug().start(), at(31, 0, 0)))
        .with_interval(iv("4vCPU", at(31, 0, 0), aug().end()));
    assert_eq!(rate(&m, &change).total().to_string(), "478.800000");
    // two starts-and-terminations: the fee twice (1 day + 1 day = 28.80)
    let twice = res("o", &m)
        .with_interval(iv("2vCPU", at(1, 0, 0), at(2, 0, 0)))
        .with_interval(iv("2vCPU", at(5, 0, 0), at(6, 0, 0)));
    assert_eq!(rate(&m, &twice).total().to_string(), "128.800000");
}

// ---------------------------------------------------------------- SQL Server

#[test]
fn sql_server_on_virtual_servers_is_priced_by_the_largest_flavor() {
    let m = sql_vs();
    let one = res("s", &m).with_interval(iv("4vCPU-16GB", at(3, 0, 0), at(4, 0, 0)));
    assert_eq!(rate(&m, &one).total().to_string(), "200.000000");
    let changed = res("s", &m)
        .with_interval(iv("4vCPU-16GB", aug().start(), at(10, 0, 0)))
        .with_interval(iv("8vCPU-32GB", at(10, 0, 0), at(11, 0, 0)))
        .with_interval(iv("2vCPU-8GB", at(11, 0, 0), aug().end()));
    let c = rate(&m, &changed);
    assert_eq!(c.lines[0].plan.as_deref(), Some("8vCPU-32GB"));
    assert_eq!(c.total().to_string(), "400.000000");
}

#[test]
fn sql_server_on_a_dedicated_hypervisor_is_priced_by_the_largest_vcpu_count() {
    let m = sql_dh();
    let steady =
        res("s", &m).with_interval(iv("per vCPU", aug().start(), aug().end()).with_quantity(4));
    assert_eq!(rate(&m, &steady).total().to_string(), "100.000000");
    let changed = res("s", &m)
        .with_interval(iv("per vCPU", aug().start(), at(10, 0, 0)).with_quantity(4))
        .with_interval(iv("per vCPU", at(10, 0, 0), at(20, 0, 0)).with_quantity(8))
        .with_interval(iv("per vCPU", at(20, 0, 0), aug().end()).with_quantity(6));
    assert_eq!(rate(&m, &changed).total().to_string(), "200.000000");
}

#[test]
fn sql_server_needs_the_vcpus_of_each_flavor() {
    let mut m = sql_vs();
    m.plans[0].vcpus = None;
    let r = res("s", &m).with_interval(iv("2vCPU-8GB", aug().start(), aug().end()));
    assert!(matches!(
        rate_resource(&m, &r, &whole_aug()),
        Err(RatingError::MissingVcpus { .. })
    ));
}

// ---------------------------------------------------------------- monitoring

#[test]
fn monitoring_basic_is_free_advanced_and_options_are_monthly_fixed() {
    let m = monitoring();
    let basic = res("mon", &m).with_interval(iv("Basic", aug().start(), aug().end()));
    let c = rate(&m, &basic);
    assert_eq!(amounts(&c), ["0.000000"]);
    assert_eq!(c.lines[0].description, "Basic plan: free");
    let adv = res("mon", &m).with_interval(iv("Advanced", at(30, 0, 0), at(30, 1, 0)));
    assert_eq!(rate(&m, &adv).total().to_string(), "23.000000");
    let alarms = res("alarm", &m)
        .with_interval(iv("Additional Alarm", aug().start(), aug().end()).with_quantity(3));
    assert_eq!(rate(&m, &alarms).total().to_string(), "15.000000");
}

#[test]
fn monitoring_plan_change_and_restarts() {
    let m = monitoring();
    // Basic → Advanced: one Advanced month
    let up = res("mon", &m)
        .with_interval(iv("Basic", aug().start(), at(15, 0, 0)))
        .with_interval(iv("Advanced", at(15, 0, 0), aug().end()));
    assert_eq!(amounts(&rate(&m, &up)), ["0.000000", "23.000000"]);
    // Advanced twice with a gap: 2 × 23
    let twice = res("mon", &m)
        .with_interval(iv("Advanced", aug().start(), at(5, 0, 0)))
        .with_interval(iv("Basic", at(5, 0, 0), at(20, 0, 0)))
        .with_interval(iv("Advanced", at(20, 0, 0), aug().end()));
    assert_eq!(rate(&m, &twice).total().to_string(), "46.000000");
}

// ---------------------------------------------------------------- Cloud Foundry shared

fn app(id: &str, plan: &str, instances: u32, start: DateTime<Utc>, end: DateTime<Utc>) -> Resource {
    Resource::new(id, "cf-shared").with_interval(iv(plan, start, end).with_quantity(instances))
}

#[test]
fn cf_shared_is_per_second_instance_usage_under_the_cap() {
    let m = [cf_shared()];
    // 2 instances × 100 h + 1 instance × 200 h = 400 instance-hours × 3600 × 0.000005 = 7.20
    let apps = [
        app(
            "a",
            "128MB",
            2,
            at(1, 0, 0),
            at(1, 0, 0) + Duration::hours(100),
        ),
        app(
            "b",
            "128MB",
            1,
            at(1, 0, 0),
            at(1, 0, 0) + Duration::hours(200),
        ),
    ];
    let tc = rate_tenant(&m, &apps, &whole_aug()).unwrap();
    assert_eq!(tc.resources[0].lines[0].quantity, d("720000"));
    assert_eq!(tc.resources[0].lines[0].unit, Unit::Second);
    assert!(tc.tenant_lines.is_empty());
    assert_eq!(tc.total().to_string(), "7.200000");
}

#[test]
fn cf_shared_500_instance_hours_boundary() {
    let m = [cf_shared()];
    let exactly = [app(
        "a",
        "128MB",
        1,
        at(1, 0, 0),
        at(1, 0, 0) + Duration::hours(500),
    )];
    let tc = rate_tenant(&m, &exactly, &whole_aug()).unwrap();
    assert!(tc.tenant_lines.is_empty());
    assert_eq!(tc.total().to_string(), "9.000000");
    let one_second_more = [app(
        "a",
        "128MB",
        1,
        at(1, 0, 0),
        at(1, 0, 0) + Duration::hours(500) + Duration::seconds(1),
    )];
    let tc = rate_tenant(&m, &one_second_more, &whole_aug()).unwrap();
    assert_eq!(tc.resources[0].total().to_string(), "9.000005");
    assert_eq!(tc.tenant_lines[0].line.kind, LineKind::Cap);
    assert_eq!(tc.tenant_lines[0].line.amount.to_string(), "-0.000005");
    assert_eq!(tc.total().to_string(), "9.000000");
}

#[test]
fn cf_shared_cap_is_per_tenant_not_per_app() {
    let m = [cf_shared()];
    // each app 300 h (5.40, under the cap alone); together 600 h → 9.00
    let apps = [
        app(
            "a",
            "128MB",
            1,
            at(1, 0, 0),
            at(1, 0, 0) + Duration::hours(300),
        ),
        app(
            "b",
            "128MB",
            1,
            at(1, 0, 0),
            at(1, 0, 0) + Duration::hours(300),
        ),
    ];
    let tc = rate_tenant(&m, &apps, &whole_aug()).unwrap();
    assert_eq!(
        tc.resources
            .iter()
            .map(|r| r.total().to_string())
            .collect::<Vec<_>>(),
        ["5.400000", "5.400000"]
    );
    assert_eq!(tc.total().to_string(), "9.000000");
    // three instances all month: 2232 h = 40.176 → 9.00
    let big = [app("a", "128MB", 3, aug().start(), aug().end())];
    assert_eq!(tenant_total(&m, &big, &whole_aug()), "9.000000");
}

#[test]
fn cf_shared_plan_change_caps_each_memory_size() {
    let m = [cf_shared()];
    // 128MB 600 h (→ 9.00) then 256MB 100 h (3.60, its cap 18.00 not reached)
    let r = [Resource::new("a", "cf-shared")
        .with_interval(iv(
            "128MB",
            aug().start(),
            aug().start() + Duration::hours(600),
        ))
        .with_interval(iv(
            "256MB",
            aug().start() + Duration::hours(600),
            aug().start() + Duration::hours(700),
        ))];
    assert_eq!(tenant_total(&m, &r, &whole_aug()), "12.600000");
}

#[test]
fn cf_shared_rounds_down() {
    let m = [cf_shared().with_plan(PlanPrice::new("odd", d("0.0000045")))];
    // 3 s × 0.0000045 = 0.0000135 → 0.000013
    let r = [app(
        "a",
        "odd",
        1,
        at(1, 0, 0),
        at(1, 0, 0) + Duration::seconds(3),
    )];
    assert_eq!(tenant_total(&m, &r, &whole_aug()), "0.000013");
}

// ---------------------------------------------------------------- Virtual Private CF

fn environment(
    id: &str,
    created: DateTime<Utc>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Resource {
    Resource::new(id, "vpcf")
        .created(created)
        .with_interval(iv("router", start, end).with_quantity(2))
        .with_interval(iv("cell", start, end).with_quantity(3))
}

#[test]
fn vpcf_is_capped_per_minute_by_routers_and_cells() {
    let m = vpcf();
    // 1 day: 2 × 1440 × 0.005 + 3 × 1440 × 0.01 = 14.40 + 43.20
    let day = environment("e1", at(1, 0, 0), at(1, 0, 0), at(2, 0, 0));
    assert_eq!(amounts(&rate(&m, &day)), ["14.400000", "43.200000"]);
    // all month: routers 446.40 → 2 × 200, cells 1339.20 → 3 × 400
    let month = environment("e1", at(1, 0, 0), aug().start(), aug().end());
    assert_eq!(rate(&m, &month).total().to_string(), "1600.000000");
}

#[test]
fn vpcf_second_environment_is_free_for_30_days_third_is_not() {
    let m = [vpcf()];
    let envs = [
        environment("first", t(2019, 7, 1, 0, 0, 0), aug().start(), aug().end()),
        environment("second", at(10, 0, 0), at(10, 0, 0), aug().end()),
        environment("third", at(12, 0, 0), at(12, 0, 0), aug().end()),
    ];
    let tc = rate_tenant(&m, &envs, &whole_aug()).unwrap();
    let totals: Vec<_> = tc.resources.iter().map(|r| r.total().to_string()).collect();
    // second: 22 days, all inside its free window; third: 20 days charged in full
    // (routers 2 × 28800 × 0.005 = 288, cells 3 × 28800 × 0.01 = 864)
    assert_eq!(totals, ["1600.000000", "0.000000", "1152.000000"]);
    let free = tc.resources[1].lines.last().unwrap();
    assert_eq!(
        free.kind,
        LineKind::Free(FreeReason::VirtualPrivateCfSecondEnvironment)
    );
}

#[test]
fn vpcf_free_window_ends_after_exactly_30_days() {
    let m = [vpcf()];
    let created = at(10, 0, 0);
    let window_end = created + days(30); // 2019-09-09 00:00
    let first = environment("first", t(2019, 7, 1, 0, 0, 0), sep().start(), sep().end());
    let upto = environment("second", created, sep().start(), window_end);
    let tc = rate_tenant(&m, &[first.clone(), upto], &Period::whole(sep())).unwrap();
    assert_eq!(tc.resources[1].total().to_string(), "0.000000");
    // one minute past the window: 2 routers × 0.005 + 3 cells × 0.01
    let past = environment("second", created, sep().start(), window_end + mins(1));
    let tc = rate_tenant(&m, &[first, past], &Period::whole(sep())).unwrap();
    assert_eq!(tc.resources[1].total().to_string(), "0.040000");
}

#[test]
fn vpcf_free_window_respects_the_caps() {
    let m = [vpcf()];
    // September, second environment created 08-10: free until 09-09; charged 09-09..10-01 = 22 d
    // rest: routers 2 × 31680 × 0.005 = 316.80 (< 400), cells 3 × 31680 × 0.01 = 950.40 (< 1200)
    let second = environment("second", at(10, 0, 0), sep().start(), sep().end()).with_ordinal(2);
    let tc = rate_tenant(&m, std::slice::from_ref(&second), &Period::whole(sep())).unwrap();
    assert_eq!(tc.resources[0].total().to_string(), "1267.200000");
    // without its ordinal and alone, it ranks first: charged in full (capped 1600)
    let alone = Resource {
        environment_ordinal: None,
        ..second
    };
    assert_eq!(
        tenant_total(&m, &[alone], &Period::whole(sep())),
        "1600.000000"
    );
}

// ---------------------------------------------------------------- refusals

#[test]
fn rating_refuses_what_it_cannot_price() {
    let m = compute();
    let unknown_plan = res("vm", &m).with_interval(iv("64CPU", aug().start(), aug().end()));
    assert!(matches!(
        rate_resource(&m, &unknown_plan, &whole_aug()),
        Err(RatingError::UnknownPlan { .. })
    ));

    let mut no_cap = volume();
    no_cap.plans[0].cap = None;
    let r = res("vol", &no_cap).with_interval(iv("15GB", aug().start(), aug().end()));
    assert!(matches!(
        rate_resource(&no_cap, &r, &whole_aug()),
        Err(RatingError::MissingCap { .. })
    ));

    let backwards = res("vm", &m).with_interval(iv("1CPU-4GB", at(2, 0, 0), at(1, 0, 0)));
    assert!(matches!(
        rate_resource(&m, &backwards, &whole_aug()),
        Err(RatingError::InvalidInterval { .. })
    ));

    let wrong_menu = Resource::new("vm", "volume");
    assert!(matches!(
        rate_resource(&m, &wrong_menu, &whole_aug()),
        Err(RatingError::MenuMismatch { .. })
    ));

    let unknown_menu = [Resource::new("x", "nope")];
    assert!(matches!(
        rate_tenant(std::slice::from_ref(&m), &unknown_menu, &whole_aug()),
        Err(RatingError::UnknownMenu { .. })
    ));

    let bad_rule = compute().with_rule(SpecialRule::WindowsGuestImage {
        flat_8_plus: Decimal::ONE,
    });
    let r = res("vm", &bad_rule).with_interval(iv("1CPU-4GB", aug().start(), aug().end()));
    assert!(matches!(
        rate_resource(&bad_rule, &r, &whole_aug()),
        Err(RatingError::RuleNotAllowed { .. })
    ));
}

#[test]
fn amounts_always_have_six_decimal_places() {
    assert_eq!(amount6(d("1")).to_string(), "1.000000");
    assert_eq!(amount6(d("0.0000009")).to_string(), "0.000000");
    assert_eq!(amount6(d("-0.0000009")).to_string(), "0.000000");
    assert_eq!(amount6(d("2.9999999")).to_string(), "2.999999");
}
