//! Setting, ending and listing a partner's price rules.

use std::collections::HashMap;

use ecl_bus::CallCtx;
use ecl_kernel::{AppError, AppResult};
use ecl_proto::{
    Page,
    commercial::{
        EndPriceRule, ListPriceRules, PriceRuleInput, PriceRuleKind, PriceRuleScope, PriceRuleView,
        SetPriceRule,
    },
    contract::{ContractKind, ContractView},
    page::Cursor,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};

use super::{decimal, decode, encode};
use crate::Billing;
use crate::commercial::price_rules::{
    MenuCheck, PriceRule, Pricing, RuleKind, RuleScope, Supersede, supersede,
};
use crate::commercial::store::price_rule;
use crate::rating::Month;

/// A stored rule and when it was set.
fn view(r: &PriceRule, created_at_us: i64) -> PriceRuleView {
    let (scope, scope_value) = match &r.scope {
        RuleScope::All => (PriceRuleScope::All, None),
        RuleScope::Category(c) => (PriceRuleScope::Category, Some(c.clone())),
        RuleScope::Menu(m) => (PriceRuleScope::Menu, Some(m.clone())),
    };
    let (kind, percent, plan, unit_price, cap) = match &r.pricing {
        Pricing::Markup { percent } => (PriceRuleKind::Markup, Some(*percent), None, None, None),
        Pricing::Discount { percent } => {
            (PriceRuleKind::Discount, Some(*percent), None, None, None)
        }
        Pricing::Fixed {
            plan,
            unit_price,
            cap,
        } => (
            PriceRuleKind::Fixed,
            None,
            Some(plan.clone()),
            Some(*unit_price),
            *cap,
        ),
    };
    PriceRuleView {
        id: r.id.clone(),
        partner_id: r.partner_id.clone(),
        child_id: r.child_id.clone(),
        scope,
        scope_value,
        kind,
        percent: percent.map(|p| p.normalize().to_string()),
        plan,
        unit_price: unit_price.map(|p| p.normalize().to_string()),
        cap: cap.map(|c| c.normalize().to_string()),
        effective_from: r.effective_from,
        last_month: r.last_month,
        created_at: chrono::DateTime::from_timestamp_micros(created_at_us).unwrap_or_default(),
    }
}

pub(crate) fn proto_kind(k: RuleKind) -> PriceRuleKind {
    match k {
        RuleKind::Markup => PriceRuleKind::Markup,
        RuleKind::Discount => PriceRuleKind::Discount,
        RuleKind::Fixed => PriceRuleKind::Fixed,
    }
}

fn rule_of(id: String, partner_id: &str, i: PriceRuleInput) -> AppResult<PriceRule> {
    let value = |what: &str| {
        i.scope_value
            .clone()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| AppError::invalid("scopeValue", format!("a {what} scope names it")))
    };
    let scope = match i.scope {
        PriceRuleScope::All => RuleScope::All,
        PriceRuleScope::Category => RuleScope::Category(value("category")?),
        PriceRuleScope::Menu => RuleScope::Menu(value("menu")?),
    };
    let pricing = match i.kind {
        PriceRuleKind::Markup => Pricing::Markup {
            percent: decimal("percent", i.percent.as_deref())?,
        },
        PriceRuleKind::Discount => Pricing::Discount {
            percent: decimal("percent", i.percent.as_deref())?,
        },
        PriceRuleKind::Fixed => Pricing::Fixed {
            plan: i
                .plan
                .clone()
                .ok_or_else(|| AppError::invalid("plan", "a FIXED price is for a plan"))?,
            unit_price: decimal("unitPrice", i.unit_price.as_deref())?,
            cap: i
                .cap
                .as_deref()
                .map(|c| decimal("cap", Some(c)))
                .transpose()?,
        },
    };
    Ok(PriceRule {
        id,
        partner_id: partner_id.to_string(),
        child_id: i.child_id.clone(),
        scope,
        pricing,
        effective_from: i.effective_from,
        last_month: None,
    })
}

impl Billing {
    /// The partner's owner and admins (and the operator) manage its price rules.
    async fn pricing_partner(&self, ctx: &CallCtx, partner_id: &str) -> AppResult<ContractView> {
        let p = self.contract_for(ctx, partner_id).await?;
        if p.kind != ContractKind::Partner {
            return Err(AppError::invalid(
                "partnerId",
                format!("{partner_id} is not a partner contract"),
            ));
        }
        if !(p.managed && (ctx.principal.is_operator() || ctx.principal.is_manager())) {
            return Err(AppError::forbidden(
                "only the partner's owner and admins set its prices",
            ));
        }
        Ok(p)
    }

    /// Every rule of a partner, history included, with when each was set.
    pub(crate) async fn rules_of(&self, partner_id: &str) -> AppResult<Vec<(PriceRule, i64)>> {
        price_rule::Entity::find()
            .filter(price_rule::Column::OwnerId.eq(partner_id))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|r| Ok((decode(&r.body)?, r.created_at)))
            .collect()
    }

    /// The rules of a batch of partners, history included: one read.
    pub(crate) async fn rules_for(
        &self,
        partner_ids: &[&str],
    ) -> AppResult<HashMap<String, Vec<PriceRule>>> {
        let mut out: HashMap<String, Vec<PriceRule>> = HashMap::new();
        if partner_ids.is_empty() {
            return Ok(out);
        }
        for r in price_rule::Entity::find()
            .filter(price_rule::Column::OwnerId.is_in(partner_ids.iter().copied()))
            .all(&self.db)
            .await?
        {
            out.entry(r.owner_id.clone())
                .or_default()
                .push(decode(&r.body)?);
        }
        Ok(out)
    }

    pub(crate) async fn set_price_rule(
        &self,
        ctx: &CallCtx,
        req: SetPriceRule,
    ) -> AppResult<PriceRuleView> {
        let partner = self.pricing_partner(ctx, &req.partner_id).await?;
        if let Some(child_id) = &req.input.child_id {
            // a child outside the caller's tree (another partner's) is not found: say why
            let child = self.contract_for(ctx, child_id).await.map_err(|e| {
                if e.code == ecl_kernel::ErrorCode::NotFound {
                    AppError::invalid(
                        "childId",
                        format!("{child_id} is not a child of {}", partner.id),
                    )
                } else {
                    e
                }
            })?;
            if child.parent_id.as_deref() != Some(partner.id.as_str()) {
                return Err(AppError::invalid(
                    "childId",
                    format!("{child_id} is not a child of {}", partner.id),
                ));
            }
            if !child.managed {
                return Err(AppError::forbidden(format!(
                    "{child_id} is outside your contract groups"
                )));
            }
        }
        let rule = rule_of(ecl_kernel::ids::new_id("prule"), &partner.id, req.input)?;
        let current = self.current_month();
        let check = match &rule.scope {
            RuleScope::Menu(code) => self
                .menus_in(rule.effective_from.max(current))
                .await?
                .into_iter()
                .find(|(r, _)| &r.code == code)
                .map(|(_, s)| MenuCheck {
                    code: s.code.clone(),
                    resellable: s.resellable,
                    plans: s.plans.iter().map(|p| p.plan.clone()).collect(),
                }),
            _ => None,
        };
        rule.validate(current, check.as_ref())?;
        let existing: Vec<PriceRule> = self
            .rules_of(&partner.id)
            .await?
            .into_iter()
            .map(|(r, _)| r)
            .collect();
        let now = self.clock.now().timestamp_micros();
        let txn = self.db.begin().await?;
        for change in supersede(&existing, &rule) {
            match change {
                Supersede::Drop { id } => {
                    price_rule::Entity::delete_by_id(id).exec(&txn).await?;
                }
                Supersede::End { id, last_month } => {
                    let mut old = existing
                        .iter()
                        .find(|r| r.id == id)
                        .cloned()
                        .expect("superseded rule exists");
                    old.last_month = Some(last_month);
                    price_rule::Entity::update_many()
                        .col_expr(
                            price_rule::Column::Body,
                            sea_orm::sea_query::Expr::value(encode(&old)?),
                        )
                        .filter(price_rule::Column::Id.eq(id))
                        .exec(&txn)
                        .await?;
                }
            }
        }
        price_rule::Entity::insert(price_rule::ActiveModel {
            id: Set(rule.id.clone()),
            owner_id: Set(partner.id.clone()),
            month: Set(rule.effective_from.to_string()),
            body: Set(encode(&rule)?),
            created_at: Set(now),
        })
        .exec(&txn)
        .await?;
        txn.commit().await?;
        Ok(view(&rule, now))
    }

    pub(crate) async fn end_price_rule(
        &self,
        ctx: &CallCtx,
        req: EndPriceRule,
    ) -> AppResult<PriceRuleView> {
        let row = price_rule::Entity::find_by_id(req.id.clone())
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::not_found(format!("price rule {}", req.id)))?;
        self.pricing_partner(ctx, &row.owner_id).await?;
        let mut rule: PriceRule = decode(&row.body)?;
        let last: Month = req.last_month;
        if last < self.current_month() {
            return Err(AppError::invalid(
                "lastMonth",
                "a rule ends in the current month or later: past months keep their prices",
            ));
        }
        if last < rule.effective_from {
            return Err(AppError::invalid(
                "lastMonth",
                format!("the rule starts in {}", rule.effective_from),
            ));
        }
        rule.last_month = Some(last);
        price_rule::Entity::update_many()
            .col_expr(
                price_rule::Column::Body,
                sea_orm::sea_query::Expr::value(encode(&rule)?),
            )
            .filter(price_rule::Column::Id.eq(rule.id.clone()))
            .exec(&self.db)
            .await?;
        Ok(view(&rule, row.created_at))
    }

    pub(crate) async fn list_price_rules(
        &self,
        ctx: &CallCtx,
        req: ListPriceRules,
    ) -> AppResult<Vec<(String, Page<PriceRuleView>)>> {
        // newest first; a cursor is a rule's (creation time, id), checked before anything is read
        let key = |_: &'static str, c: &Cursor| Ok((c.created_at_us, c.id.clone()));
        let newest_first =
            |(r, at): &(PriceRule, i64), k: &(i64, String)| (k.0, &k.1).cmp(&(*at, &r.id));
        req.page.slice(Vec::new(), key, newest_first)?;
        // the partner's managers only: its prices are its business (one contract request and
        // one read of the rules for the batch)
        let managers = ctx.principal.is_operator() || ctx.principal.is_manager();
        let asked = ecl_proto::contract::GetContracts {
            ids: req.contract_ids.clone(),
        };
        let partners: Vec<String> = self
            .bus
            .call(ctx, &asked)
            .await?
            .into_iter()
            .filter(|p| p.kind == ContractKind::Partner && p.managed && managers)
            .map(|p| p.id)
            .collect();
        let ids: Vec<&str> = partners.iter().map(String::as_str).collect();
        let mut all = HashMap::<String, Vec<(PriceRule, i64)>>::new();
        if !ids.is_empty() {
            for r in price_rule::Entity::find()
                .filter(price_rule::Column::OwnerId.is_in(ids.iter().copied()))
                .all(&self.db)
                .await?
            {
                all.entry(r.owner_id.clone())
                    .or_default()
                    .push((decode(&r.body)?, r.created_at));
            }
        }
        let mut out = Vec::new();
        for id in req.contract_ids {
            if !partners.contains(&id) {
                out.push((id, Page::empty()));
                continue;
            }
            let mut rules = all.remove(&id).unwrap_or_default();
            rules.sort_by(|a, b| (b.1, &b.0.id).cmp(&(a.1, &a.0.id)));
            let page = req.page.slice(rules, key, newest_first)?;
            let edges = page
                .items
                .iter()
                .map(|(r, at)| {
                    (
                        Cursor {
                            created_at_us: *at,
                            id: r.id.clone(),
                        },
                        view(r, *at),
                    )
                })
                .collect();
            out.push((
                id,
                Page {
                    edges,
                    has_next_page: page.has_next_page,
                    has_previous_page: page.has_previous_page,
                    total_count: page.total_count,
                },
            ));
        }
        Ok(out)
    }
}
