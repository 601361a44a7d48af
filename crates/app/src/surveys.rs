//! The NPS survey a journey mails: a link per mail to a page where the member rates the
//! business from 0 to 10, may leave a comment and may allow it to be published. Answering
//! again changes the answer; the answers feed the NPS figure, the comments the back office.

use crate::analytics::checked_answer;
use crate::{App, AppError, Caller, Scope};
use chrono::Duration;
use stammgast_core::automation::journey::Journey;
use stammgast_core::ids::{BusinessId, MemberId};
use stammgast_store::{NewSurveyAnswer, SessionKind, SurveyComment};
use uuid::Uuid;

/// How long a mailed survey can be answered.
const SURVEY_DAYS: i64 = 30;

/// A mailed survey as its page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Survey {
    pub business_name: String,
    pub first_name: String,
    pub language: String,
}

/// An answer as the survey page sends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SurveyAnswer {
    pub score: u8,
    pub comment: String,
    /// The member allows the comment to be published with their first name.
    pub publish: bool,
}

/// Who a survey link is for: the member, the mail (whose id the answer takes, so that
/// answering again replaces it) and the journey.
struct SurveyLink {
    member: MemberId,
    message: Uuid,
    journey: String,
}

impl SurveyLink {
    fn subject(&self) -> String {
        format!("{}/{}/{}", self.member, self.message, self.journey)
    }

    fn parse(subject: &str) -> Option<Self> {
        let mut parts = subject.splitn(3, '/');
        Some(Self {
            member: MemberId::parse(parts.next()?)?,
            message: Uuid::try_parse(parts.next()?).ok()?,
            journey: parts.next()?.to_owned(),
        })
    }
}

impl App {
    /// The link of a survey mailed to a member by a journey.
    pub(crate) async fn survey_link(
        &self,
        business: BusinessId,
        member: MemberId,
        message: Uuid,
        journey: &Journey,
    ) -> Result<String, AppError> {
        let link = SurveyLink {
            member,
            message,
            journey: journey.slug.to_string(),
        };
        let token = self
            .open_session(
                business,
                SessionKind::Survey,
                link.subject(),
                Duration::days(SURVEY_DAYS),
            )
            .await?;
        Ok(format!("{}/survey/{token}", self.public_url))
    }

    /// The survey behind a mailed link; `Unauthenticated` when the link is unknown or
    /// expired.
    pub async fn survey(&self, token: &str) -> Result<Survey, AppError> {
        let (business, link) = self.survey_of(token).await?;
        let member = self
            .store
            .member(business, link.member)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(Survey {
            business_name: self.business_name(business).await?,
            first_name: member.first_name,
            language: member.language,
        })
    }

    /// Stores the answer given through a mailed link (replacing an earlier one).
    pub async fn answer_survey(&self, token: &str, answer: SurveyAnswer) -> Result<(), AppError> {
        let (business, link) = self.survey_of(token).await?;
        let comment = checked_answer(answer.score, &answer.comment)?;
        let now = self.now();
        let answer = NewSurveyAnswer {
            id: link.message,
            member_id: link.member,
            score: answer.score,
            publish_consent_at: (answer.publish && !comment.is_empty()).then_some(now),
            comment,
            location_id: None,
            answered_at: now,
            source: format!("journey:{}", link.journey),
        };
        Ok(self.store.record_survey_answer(business, answer).await?)
    }

    /// The latest comments left in surveys, newest first.
    pub async fn survey_comments(&self, caller: &Caller) -> Result<Vec<SurveyComment>, AppError> {
        const SHOWN: usize = 50;
        caller.require(Scope::MembersRead)?;
        Ok(self
            .store
            .survey_comments(caller.business_id, SHOWN)
            .await?)
    }

    async fn survey_of(&self, token: &str) -> Result<(BusinessId, SurveyLink), AppError> {
        let record = self.session(token, SessionKind::Survey).await?;
        let link = SurveyLink::parse(&record.subject_id).ok_or(AppError::Unauthenticated)?;
        Ok((record.business_id, link))
    }
}
