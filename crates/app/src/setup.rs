//! Setting up a program from a template: café stamp card, bakery, salon points, boutique
//! tiers, web shop points. The owner adjusts a few numbers and names, previews the card and
//! launches; launching publishes the program and saves the branding.

use crate::keys::{Caller, Scope};
use crate::shop::{DEFAULT_BRAND_COLOR, check_branding};
use crate::{App, AppError};
use serde_json::Value;
use stammgast_core::program::{Program, parse_program};
use stammgast_store::ShopSettings;

/// A program template and the call to action its QR material starts with.
#[derive(Clone, Copy, Debug)]
pub struct Template {
    pub id: &'static str,
    pub program: &'static str,
    pub call_to_action: &'static str,
}

pub const TEMPLATES: [Template; 5] = [
    Template {
        id: "cafe",
        program: include_str!("templates/cafe.json"),
        call_to_action: "Scannen & Gratis-Kaffee sichern",
    },
    Template {
        id: "bakery",
        program: include_str!("templates/bakery.json"),
        call_to_action: "Scannen & Stempel fürs Gratis-Brot sammeln",
    },
    Template {
        id: "salon",
        program: include_str!("templates/salon.json"),
        call_to_action: "Scannen & Punkte für Ihre Pflege sammeln",
    },
    Template {
        id: "boutique",
        program: include_str!("templates/boutique.json"),
        call_to_action: "Scannen & Vorteile ab dem ersten Einkauf",
    },
    Template {
        id: "webshop",
        program: include_str!("templates/webshop.json"),
        call_to_action: "Scannen & 100 Willkommenspunkte sichern",
    },
];

pub fn template(id: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|template| template.id == id)
}

/// What the owner can change in the wizard. Fields a template does not have stay `None`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetupChoices {
    pub welcome_points: i64,
    pub points_per_euro: i64,
    pub stamps_required: Option<i64>,
    pub stamp_reward_name: Option<String>,
    pub brand_color: String,
    pub call_to_action: String,
}

fn rule_mut<'a>(program: &'a mut Value, id: &str) -> Option<&'a mut Value> {
    program["rules"]
        .as_array_mut()?
        .iter_mut()
        .find(|rule| rule["id"] == id)
}

/// The stamp card's reward, when the template has a stamp card.
fn stamp_reward_mut(program: &mut Value) -> Option<&mut Value> {
    let reward_id = program["stamp_cards"][0]["reward"].as_str()?.to_owned();
    program["rewards"]
        .as_array_mut()?
        .iter_mut()
        .find(|reward| reward["id"] == reward_id.as_str())
}

impl Template {
    fn json(&self) -> Value {
        serde_json::from_str(self.program).unwrap_or(Value::Null)
    }

    /// The template's own numbers, as the wizard first shows them.
    pub fn defaults(&self) -> SetupChoices {
        let mut program = self.json();
        let points = |program: &mut Value, id: &str, pointer: &str| {
            rule_mut(program, id)
                .and_then(|rule| rule.pointer(pointer)?.as_i64())
                .unwrap_or(0)
        };
        SetupChoices {
            welcome_points: points(&mut program, "welcome", "/then/points"),
            points_per_euro: points(&mut program, "euro", "/then/points_per_amount/points"),
            stamps_required: program["stamp_cards"][0]["stamps_required"].as_i64(),
            stamp_reward_name: stamp_reward_mut(&mut program)
                .and_then(|reward| reward["name"].as_str().map(str::to_owned)),
            brand_color: DEFAULT_BRAND_COLOR.to_owned(),
            call_to_action: self.call_to_action.to_owned(),
        }
    }

    /// The template with the owner's choices, as a program definition (JSON), validated.
    pub fn program(&self, choices: &SetupChoices) -> Result<(String, Program), AppError> {
        if !(0..=10_000).contains(&choices.welcome_points) {
            return Err(AppError::invalid(
                "welcome_points",
                "give 0 to 10,000 points",
            ));
        }
        if !(0..=100).contains(&choices.points_per_euro) {
            return Err(AppError::invalid(
                "points_per_euro",
                "give 0 to 100 points per euro",
            ));
        }
        let mut program = self.json();
        if let Some(rule) = rule_mut(&mut program, "welcome") {
            rule["then"]["points"] = choices.welcome_points.into();
        }
        if let Some(rule) = rule_mut(&mut program, "euro") {
            rule["then"]["points_per_amount"]["points"] = choices.points_per_euro.into();
        }
        if let Some(stamps) = choices.stamps_required {
            if !(2..=30).contains(&stamps) {
                return Err(AppError::invalid(
                    "stamps_required",
                    "a card has 2 to 30 stamps",
                ));
            }
            program["stamp_cards"][0]["stamps_required"] = stamps.into();
        }
        if let Some(name) = &choices.stamp_reward_name {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 80 {
                return Err(AppError::invalid(
                    "stamp_reward_name",
                    "name the reward in 1 to 80 characters",
                ));
            }
            if let Some(reward) = stamp_reward_mut(&mut program) {
                reward["name"] = name.into();
            }
        }
        let definition = program.to_string();
        let parsed = parse_program(&definition).map_err(AppError::InvalidProgram)?;
        Ok((definition, parsed))
    }
}

impl App {
    /// Launches the program built from `template` with the owner's choices: it applies to
    /// everything recorded from now on (earlier earnings keep their terms).
    pub async fn launch_program(
        &self,
        caller: &Caller,
        template: &Template,
        choices: &SetupChoices,
    ) -> Result<i64, AppError> {
        caller.require(Scope::ProgramWrite)?;
        let (definition, _) = template.program(choices)?;
        let branding = check_branding(&choices.brand_color, &choices.call_to_action)?;
        let settings = ShopSettings {
            brand_color: branding.brand_color,
            call_to_action: branding.call_to_action,
            ..self.shop_settings(caller.business_id).await?
        };
        let version = self
            .publish_program(caller.business_id, &definition)
            .await?;
        self.store
            .save_shop_settings(caller.business_id, settings, self.now())
            .await?;
        Ok(version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_is_a_valid_program_with_its_own_defaults() {
        for template in TEMPLATES {
            let defaults = template.defaults();
            assert!(template.program(&defaults).is_ok(), "{}", template.id);
            assert!(defaults.points_per_euro > 0, "{}", template.id);
        }
        assert_eq!(
            template("cafe").unwrap().defaults().stamps_required,
            Some(10)
        );
        assert_eq!(template("salon").unwrap().defaults().stamps_required, None);
    }

    #[test]
    fn the_owners_choices_end_up_in_the_program() {
        let cafe = template("cafe").unwrap();
        let choices = SetupChoices {
            welcome_points: 25,
            points_per_euro: 2,
            stamps_required: Some(8),
            stamp_reward_name: Some("Cappuccino gratis".into()),
            ..cafe.defaults()
        };
        let (_, program) = cafe.program(&choices).unwrap();
        assert_eq!(program.stamp_cards[0].stamps_required.get(), 8);
        let reward = program
            .reward(program.stamp_cards[0].reward.as_ref().unwrap())
            .unwrap();
        assert_eq!(reward.name, "Cappuccino gratis");
    }

    #[test]
    fn choices_out_of_range_name_the_field() {
        let cafe = template("cafe").unwrap();
        for (choices, field) in [
            (
                SetupChoices {
                    stamps_required: Some(1),
                    ..cafe.defaults()
                },
                "stamps_required",
            ),
            (
                SetupChoices {
                    welcome_points: -1,
                    ..cafe.defaults()
                },
                "welcome_points",
            ),
            (
                SetupChoices {
                    stamp_reward_name: Some(" ".into()),
                    ..cafe.defaults()
                },
                "stamp_reward_name",
            ),
        ] {
            assert!(
                matches!(cafe.program(&choices), Err(AppError::Invalid { field: f, .. }) if f == field)
            );
        }
        let defaults = cafe.defaults();
        assert!(check_branding(&defaults.brand_color, &defaults.call_to_action).is_ok());
    }
}
