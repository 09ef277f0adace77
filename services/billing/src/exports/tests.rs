use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::csv::{field, quoted};
use super::detail::{DETAIL_COLUMNS, detail_csv};
use super::legacy::*;
use super::summary::summary_csv;
use crate::bill::{Bill, BillHeader, BillStatus, ContractInfo, TaxRule, TenantInfo};
use crate::rating::testutil::{d, t};
use crate::rating::{
    ChargePattern, Currency, Menu, Month, Period, PlanPrice, Resource, SpecialRule, TenantCharges,
    UsageInterval, rate_tenant,
};
use crate::rating::{LineKind, Unit};

/// Seed 002's legacy CSV example, as published (its lines 3 and 24 and the end record are
/// not shown there).
const EXAMPLE: &str = include_str!("../../tests/fixtures/legacy_example_2019_08.csv");

/// The moment the example file was created; also the estimate's cut-off.
fn created() -> DateTime<Utc> {
    t(2019, 8, 30, 7, 25, 38)
}

/// The price list behind the example. The per-minute prices are the example's amounts
/// divided by its minutes (649.135268 / 3739 = 0.173612 exactly, and so on); the caps are
/// not in the example and are chosen high enough not to bite.
fn example_menus() -> Vec<Menu> {
    let jpy = Currency::Jpy;
    vec![
        Menu::new(
            "compute",
            "Virtual Server",
            "Compute",
            Unit::Minute,
            ChargePattern::CappedPaygPlanChange,
            jpy,
        )
        .with_region("jp1")
        .with_plan(
            PlanPrice::new("1CPU-4GB", d("0.173612"))
                .with_cap(d("7000"))
                .with_label("Flavor (1CPU-4GB)"),
        ),
        Menu::new(
            "volume",
            "Virtual Server",
            "Volume",
            Unit::Minute,
            ChargePattern::CappedPayg,
            jpy,
        )
        .with_region("jp1")
        .with_plan(PlanPrice::new("15GB", d("0.014881")).with_cap(d("600"))),
        Menu::new(
            "logical-network",
            "Logical Network",
            "Network",
            Unit::Minute,
            ChargePattern::CappedPayg,
            jpy,
        )
        .with_region("jp1")
        .with_rule(SpecialRule::LogicalNetwork)
        .with_plan(
            PlanPrice::new("network", d("0.074405"))
                .with_cap(d("3000"))
                .without_tier(),
        ),
        Menu::new(
            "firewall",
            "Firewall",
            "Firewall Instance",
            Unit::Minute,
            ChargePattern::CappedPaygPlanChange,
            jpy,
        )
        .with_region("jp1")
        .with_plan(
            PlanPrice::new("vSRX 15.1X49-D105.1 Standard (2CPU-4GB-8IF)", d("0.694445"))
                .with_cap(d("28000")),
        ),
        Menu::new(
            "load-balancer",
            "Load Balancer",
            "Load Balancer Instance",
            Unit::Minute,
            ChargePattern::CappedPaygPlanChange,
            jpy,
        )
        .with_region("jp1")
        .with_plan(
            PlanPrice::new(
                "NetScaler VPX 12.1-52.15 Standard_Edition (50Mbps 2CPU-8GB-4IF)",
                d("0.694445"),
            )
            .with_cap(d("28000")),
        ),
    ]
}

/// The example's usage: resources still running at the file's creation, except the firewall.
fn example_charges() -> TenantCharges {
    let now = created();
    let ago = |m: i64| now - chrono::Duration::minutes(m);
    let id = "xxxxxxxxxxxxxxxxxxx";
    let resources = [
        Resource::new(id, "compute")
            .with_interval(UsageInterval::new("1CPU-4GB", ago(3739), None).with_status("Running")),
        Resource::new(id, "volume")
            .with_name("xxxxxxxxx")
            .with_interval(UsageInterval::new("15GB", ago(3739), None)),
        Resource::new(id, "logical-network").with_interval(UsageInterval::new(
            "network",
            ago(3741),
            None,
        )),
        Resource::new(id, "firewall").with_interval(UsageInterval::new(
            "vSRX 15.1X49-D105.1 Standard (2CPU-4GB-8IF)",
            ago(3800),
            Some(ago(3800) + chrono::Duration::minutes(3714)),
        )),
        Resource::new(id, "load-balancer").with_interval(UsageInterval::new(
            "NetScaler VPX 12.1-52.15 Standard_Edition (50Mbps 2CPU-8GB-4IF)",
            ago(3725),
            None,
        )),
    ];
    let month = Month::parse("2019-08").unwrap();
    rate_tenant(&example_menus(), &resources, &Period::until(month, now)).unwrap()
}

fn example_bill() -> Bill {
    let header = BillHeader {
        contract: ContractInfo {
            contract_id: "econ1000XXXXXX".into(),
            external_contract_id: None,
            customer_number: "econ1000XXXXXX".into(),
        },
        month: Month::parse("2019-08").unwrap(),
        status: BillStatus::Estimated,
        currency: Currency::Jpy,
        tax_rule: TaxRule::JapaneseConsumption,
    };
    let tenant = TenantInfo {
        tenant_id: "xxxxxxxxxx".into(),
        name: "manual-tenant".into(),
        region: "jp1".into(),
        workspace_id: "ws-1".into(),
        workspace_name: "manual workspace".into(),
    };
    Bill::build(header, vec![(tenant, example_charges())]).unwrap()
}

fn example_options() -> LegacyOptions {
    LegacyOptions {
        created_at: created(),
        billing_customer_number: Some("econ1000XXXXXX00001".into()),
    }
}

#[test]
fn seed_002_example_lines_and_totals() {
    let tc = example_charges();
    let line_amounts: Vec<String> = tc
        .resources
        .iter()
        .flat_map(|r| r.lines.iter().map(|l| l.amount.to_string()))
        .collect();
    assert_eq!(
        line_amounts,
        [
            "649.135268",
            "55.640059",
            "278.349105",
            "2579.168730",
            "2586.807625"
        ]
    );
    let minutes: Vec<String> = tc
        .resources
        .iter()
        .map(|r| r.lines[0].quantity.to_string())
        .collect();
    assert_eq!(minutes, ["3739", "3739", "3741", "3714", "3725"]);
    assert_eq!(tc.tenant_lines.len(), 1);
    assert_eq!(tc.tenant_lines[0].line.amount.to_string(), "-278.349105");
    assert_eq!(tc.total().to_string(), "5870.751682");

    let bill = example_bill();
    assert_eq!(bill.tenants[0].exact_amount.to_string(), "5870.751682");
    assert_eq!(bill.tenants[0].total.to_string(), "5870");
    assert_eq!(bill.tax.percent.to_string(), "8");
    assert_eq!(bill.tax.amount.to_string(), "469");
    assert_eq!(bill.total.to_string(), "6339");
    let vs = &bill.tenants[0].services[0].categories[0];
    assert_eq!(
        (vs.name.as_str(), vs.amount.to_string()),
        ("Virtual Server", "704.775327".to_owned())
    );
}

#[test]
fn seed_002_example_legacy_csv_is_reproduced_line_for_line() {
    let out = legacy_csv(&example_bill(), &example_options());
    let lines: Vec<&str> = out.lines().collect();
    // every published line, at its own line number, byte for byte
    for expected in EXAMPLE.lines() {
        let n: usize = expected.split(',').next().unwrap().parse().unwrap();
        assert_eq!(lines[n - 1], expected, "line {n}");
    }
    // and nothing else but the records the example leaves out: two breaks and the end
    let shown: Vec<&str> = EXAMPLE.lines().collect();
    let rest: Vec<&&str> = lines.iter().filter(|l| !shown.contains(l)).collect();
    assert_eq!(
        rest,
        [
            &"3,0,\"\",\"\",\"\",\"\",\"\"",
            &"24,0,\"\",\"\",\"\",\"\",\"\"",
            &"26,9,26,\"\",\"\",\"\",\"\""
        ]
    );
    assert!(out.ends_with('\n'));
}

#[test]
fn legacy_file_create_date_is_the_parameter() {
    let mut opts = example_options();
    opts.created_at = t(2024, 1, 2, 3, 4, 5);
    let out = legacy_csv(&example_bill(), &opts);
    assert!(
        out.lines()
            .any(|l| l == "25,2,\"File Create Date\",\"2024-01-02 03:04:05 UTC\",\"\",\"\",\"\"")
    );
    // without a billing customer number the contract's customer number is shown
    opts.billing_customer_number = None;
    let out = legacy_csv(&example_bill(), &opts);
    assert!(out.contains("\"CustomerNumber:econ1000XXXXXX [econ1000XXXXXX]\""));
}

#[test]
fn legacy_indents_two_spaces_per_tier_and_shows_caps_and_statuses() {
    // a two-phase capped VM with a plan change, a 10 % month, and a quote in a name
    let menu = example_menus().remove(0).with_plan(
        PlanPrice::new("2CPU-8GB", d("0.347224"))
            .with_cap(d("14000"))
            .with_label("Flavor (2CPU-8GB)"),
    );
    let month = Month::parse("2019-10").unwrap();
    let r = Resource::new("vm1", "compute")
        .with_name("web \"a\"")
        .with_interval(
            UsageInterval::new("2CPU-8GB", month.start(), Some(t(2019, 10, 31, 0, 0, 0)))
                .with_status("Running"),
        )
        .with_interval(
            UsageInterval::new("1CPU-4GB", t(2019, 10, 31, 0, 0, 0), None).with_status("Running"),
        );
    let tc = rate_tenant(&[menu], &[r], &Period::whole(month)).unwrap();
    let mut bill = example_bill();
    bill.header.month = month;
    let bill = Bill::build(
        bill.header.clone(),
        vec![(bill.tenants[0].tenant.clone(), tc)],
    )
    .unwrap();
    let out = legacy_csv(&bill, &example_options());
    let items: Vec<&str> = out
        .lines()
        .filter(|l| l.split(',').nth(1) == Some("3"))
        .collect();
    for l in &items {
        let tier: usize = l.split(',').nth(2).unwrap().parse().unwrap();
        let label = l.split(',').nth(3).unwrap().trim_start_matches('"');
        let spaces = label.len() - label.trim_start_matches(' ').len();
        assert_eq!(spaces, (tier - 1) * 2, "{l}");
    }
    // 2CPU-8GB 30 d = 15000.0768 → 14000; 1CPU-4GB 1 d = 250.00128; phase II → 14000
    assert!(items.iter().any(|l| {
        l.contains(",5,\"        Compute\",\"Id:vm1, Name:web \"\"a\"\"\",\"1\",\"14000.000000\"")
    }));
    assert!(
        items
            .iter()
            .any(|l| l.contains(",7,\"            Running\",\"\",\"43200 Min\",\"15000.076800\""))
    );
    assert!(
        items
            .iter()
            .any(|l| l.contains(",7,\"            上限額適用\""))
    );
    assert!(
        items
            .iter()
            .any(|l| l.contains(",6,\"          上限額適用\"")),
        "phase-II cap under the resource"
    );
    assert!(
        items
            .iter()
            .any(|l| l.contains("\"税区分:合算 消費税率:10%\",\"\",\"1400\""))
    );
    assert!(items[0].ends_with(",\"15400\""));
}

#[test]
fn legacy_usage_display_rounds_time_up() {
    let mut l = crate::rating::ChargeLine::usage(None, Unit::Minute);
    l.quantity = d("1.5");
    assert_eq!(usage_display(&l), "2 Min");
    l.quantity = d("3739");
    assert_eq!(usage_display(&l), "3739 Min");
    l.unit = Unit::Month;
    l.quantity = d("2");
    assert_eq!(usage_display(&l), "2 Month");
    l.kind = LineKind::Cap;
    assert_eq!(usage_display(&l), "");
}

#[test]
fn detail_csv_has_seed_002_columns_and_adds_up_to_the_total() {
    let out = detail_csv(&example_bill());
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(rows[0], DETAIL_COLUMNS.join(","));
    assert_eq!(DETAIL_COLUMNS.len(), 22);
    assert_eq!(
        rows[1],
        "usage,econ1000XXXXXX,,ws-1,manual workspace,xxxxxxxxxx,xxxxxxxxxxxxxxxxxxx,Virtual Server,,Compute,\
         Running,1CPU-4GB,jp1,,xxxxxxxxxxxxxxxxxxx,3739,Min,649.135268,JPY,total,2019-08,estimated"
    );
    assert!(rows[4].starts_with("free_usage,econ1000XXXXXX,,ws-1,manual workspace,xxxxxxxxxx,xxxxxxxxxx,Logical Network,,Network,,,jp1,Free usage"));
    assert!(rows[4].ends_with(",,,,-278.349105,JPY,total,2019-08,estimated"));
    assert!(rows[7].starts_with("rounding,"));
    assert!(rows[7].contains(",-0.751682,JPY,"));
    assert!(
        rows[8]
            .starts_with("tax,econ1000XXXXXX,,,,,,,,,,,,Tax 8%,,,,469,JPY,total,2019-08,estimated")
    );
    assert_eq!(rows.len(), 9);
    for r in &rows {
        assert_eq!(r.split(',').count(), 22, "{r}");
    }
    let sum: Decimal = rows[1..]
        .iter()
        .map(|r| r.split(',').nth(17).unwrap().parse::<Decimal>().unwrap())
        .sum();
    assert_eq!(sum, d("6339"));
}

#[test]
fn summary_csv_is_per_workspace_then_tax_and_total() {
    let bill = example_bill();
    let mut tenants = vec![(bill.tenants[0].tenant.clone(), example_charges())];
    let mut other = bill.tenants[0].tenant.clone();
    other.tenant_id = "t2".into();
    other.workspace_id = "ws-2".into();
    other.workspace_name = "Second, Inc.".into();
    tenants.push((other, example_charges()));
    let mut third = bill.tenants[0].tenant.clone();
    third.tenant_id = "t3".into();
    tenants.push((third, example_charges()));
    let bill = Bill::build(bill.header.clone(), tenants).unwrap();
    let out = summary_csv(&bill);
    assert_eq!(
        out,
        "Charge Type,Contract ID,External Contract ID,Workspace ID,Workspace Name,Amount,Currency,Tax Class,Target Month,Status\n\
         usage,econ1000XXXXXX,,ws-1,manual workspace,11740,JPY,total,2019-08,estimated\n\
         usage,econ1000XXXXXX,,ws-2,\"Second, Inc.\",5870,JPY,total,2019-08,estimated\n\
         tax,econ1000XXXXXX,,,,1408,JPY,total,2019-08,estimated\n\
         total,econ1000XXXXXX,,,,19018,JPY,total,2019-08,estimated\n"
    );
}

#[test]
fn quoting() {
    assert_eq!(field("plain"), "plain");
    assert_eq!(field("a,b"), "\"a,b\"");
    assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
    assert_eq!(quoted(""), "\"\"");
}

/// Seed 002's example fixed, then credited 870 by the operator: 5870 − 870 = 5000 before tax,
/// 8 % → 400, total 5400, in all three files, before the tax row.
#[test]
fn a_fixed_bill_s_correction_is_a_row_of_every_file_before_the_tax() {
    use crate::commercial::corrections::{Correction, correct};
    let mut bill = example_bill();
    bill.header.status = BillStatus::Fixed;
    let c = Correction {
        id: "bcr_1".into(),
        contract_id: "econ1000XXXXXX".into(),
        month: bill.header.month,
        amount: d("-870"),
        reason: "Outage, credited".into(),
        recorded_by: "op".into(),
        created_at: created(),
    };
    let bill = correct(bill, &[c]).unwrap();
    assert_eq!((bill.tax.amount, bill.total), (d("400"), d("5400")));
    let summary = summary_csv(&bill);
    let rows: Vec<&str> = summary.lines().collect();
    assert_eq!(
        rows[2..],
        [
            "correction,econ1000XXXXXX,,,,-870,JPY,total,2019-08,fixed",
            "tax,econ1000XXXXXX,,,,400,JPY,total,2019-08,fixed",
            "total,econ1000XXXXXX,,,,5400,JPY,total,2019-08,fixed",
        ]
    );
    let detail = detail_csv(&bill);
    let rows: Vec<&str> = detail.lines().collect();
    assert_eq!(
        rows[rows.len() - 2],
        "correction,econ1000XXXXXX,,,,,,,,,bcr_1,,,\"Outage, credited\",,,,-870,JPY,total,2019-08,fixed"
    );
    assert!(rows[rows.len() - 1].starts_with("tax,"));
    // the reason is quoted: sum the Amount column from the right
    let sum: Decimal = rows[1..]
        .iter()
        .map(|r| r.rsplit(',').nth(4).unwrap().parse::<Decimal>().unwrap())
        .sum();
    assert_eq!(sum, d("5400"));
    let legacy = legacy_csv(&bill, &example_options());
    let items: Vec<&str> = legacy
        .lines()
        .filter(|l| l.split(',').nth(1) == Some("3"))
        .collect();
    assert!(items[0].ends_with(",\"5400\""), "{legacy}");
    let at = items.len() - 2;
    assert!(
        items[at]
            .ends_with(",3,2,\"  請求訂正\",\"Id:bcr_1, Reason:Outage, credited\",\"\",\"-870\""),
        "{legacy}"
    );
    assert!(items[at + 1].contains("消費税相当額") && items[at + 1].ends_with(",\"400\""));
}
