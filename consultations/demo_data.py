"""Demo content for `manage.py seed_demo`: invented accounts, consultations and discussions.

Every person, organisation and country here is invented; links point at reserved example domains.
"""

from dataclasses import dataclass

from accounts.models import StakeholderType

# Local development only: the command refuses to run with DEBUG off unless forced.
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105
STAKEHOLDER_DOMAIN = "demo.example"


@dataclass(frozen=True)
class Person:
    email: str
    display_name: str
    organisation: str
    stakeholder_type: str
    is_staff: bool = False
    is_superuser: bool = False
    is_moderator: bool = False
    # accounts.Profile.Byline: "stakeholder_type" shows "Participant from <type>".
    byline: str = "name"


@dataclass(frozen=True)
class Post:
    """A comment and its replies. `author` is the local part of a stakeholder's email.

    `hours` is how long after the previous post of the same thread (depth-first, the order a
    reader sees) this one was written; for a top-level comment, `day` counts from the opening.
    """

    author: str
    objectives: tuple[int, ...]
    body: str
    day: float = 0
    hours: float = 0
    replies: tuple["Post", ...] = ()


@dataclass(frozen=True)
class ConsultationSpec:
    slug: str
    title: str
    description: str  # `{closes_on}` is replaced by the closing date
    objectives: tuple[int, ...]
    opens_days_ago: int
    closes_in_days: int  # negative: closed that many days ago
    questions: tuple[str, ...]  # numbered 1, 2, 3... in this order
    threads: dict[int, tuple[Post, ...]]  # question number -> top-level comments


MODERATOR = Person(
    email="moderator@example.org",
    display_name="Consultation moderators",
    organisation="Regional Mobility Observatory",
    stakeholder_type=StakeholderType.INTERGOVERNMENTAL,
    is_staff=True,
    is_moderator=True,
)
STAFF = Person(
    email="staff@example.org",
    display_name="Forum administrator",
    organisation="Forum operations team",
    stakeholder_type=StakeholderType.OTHER,
    is_staff=True,
    is_superuser=True,
)


def _stakeholder(
    local: str, name: str, organisation: str, kind: str, byline: str = "name"
) -> Person:
    return Person(f"{local}@{STAKEHOLDER_DOMAIN}", name, organisation, kind, byline=byline)


ST = StakeholderType
STAKEHOLDERS = (
    _stakeholder(
        "lucia.ferrand",
        "Lucía Ferrand",
        "Directorate of Migration, Ministry of Interior of Valdoria",
        ST.MEMBER_STATE,
    ),
    _stakeholder(
        "tomas.adeyemi",
        "Tomás Adeyemi",
        "National Civil Registry Service, Republic of Castellan",
        ST.MEMBER_STATE,
    ),
    _stakeholder(
        "ingrid.solberg",
        "Ingrid Solberg",
        "UN Joint Programme on Safe Mobility, regional office",
        ST.UN_SYSTEM,
    ),
    _stakeholder(
        "rafael.mendes",
        "Rafael Mendes",
        "Commission for Regional Border Cooperation",
        ST.INTERGOVERNMENTAL,
    ),
    _stakeholder(
        "amara.nwosu", "Amara Nwosu", "Harbour Lights Rescue Collective", ST.CIVIL_SOCIETY
    ),
    _stakeholder(
        "sofia.lindqvist", "Sofia Lindqvist", "Legal Aid for People on the Move", ST.CIVIL_SOCIETY
    ),
    _stakeholder(
        "hodan.farah",
        "Hodan Farah",
        "Returnees' Association of the Eastern Corridor",
        ST.MIGRANT_DIASPORA,
        # Asked not to be named: her comments read "Participant from Migrant or diaspora
        # organisation".
        byline="stakeholder_type",
    ),
    _stakeholder(
        "mateo.villanueva",
        "Dr Mateo Villanueva",
        "Centre for Border and Mobility Studies, University of Eastbridge",
        ST.ACADEMIA,
    ),
    _stakeholder(
        "priya.raman",
        "Priya Raman",
        "Northgate Bank, financial crime compliance",
        ST.PRIVATE_SECTOR,
    ),
    _stakeholder(
        "marta.kowal",
        "Marta Kowal",
        "City of Portavela, Department of Social Inclusion",
        ST.LOCAL_GOVERNMENT,
    ),
    _stakeholder(
        "samuel.otieno",
        "Samuel Otieno",
        "Federation of Transport and Logistics Workers",
        ST.TRADE_UNION,
    ),
    _stakeholder(
        "noor.saleh", "Noor Saleh", "Independent interpreter and cultural mediator", ST.OTHER
    ),
)


# --- The open consultation ---------------------------------------------------------------------

_OPEN_DESCRIPTION = """\
<h2>About this consultation</h2>

This discussion space gathers views from Member States and stakeholders ahead of the regional \
review of seven objectives of the Global Compact for Migration: <strong>legal identity and \
documentation (4), saving lives and missing migrants (8), countering smuggling (9), ending \
trafficking (10), border management (11), alternatives to detention (13) and return and \
reintegration (21)</strong>.

<h3>What we will do with your contributions</h3>

<ul>
<li>Identify the priorities the regional review should discuss.</li>
<li>Collect practices and partnerships that others could adapt.</li>
<li>Name the challenges that have grown since the last review.</li>
</ul>

The moderators from the <em>Regional Mobility Observatory</em> and the <em>Joint Secretariat on \
Safe Migration</em> will summarise the discussion in the background note for the review. \
The discussion is open until <strong>{closes_on}</strong>.

To take part, sign in, confirm your email address and answer one of the numbered questions \
below, or reply to another participant. Please tag your comment with the objectives it \
addresses."""

_Q1 = (
    # 1. Priorities
    Post(
        "sofia.lindqvist",
        (9, 10),
        """\
A first priority should be to stop anti-smuggling laws from being used against people who help \
migrants for humanitarian reasons. In the last two years our lawyers have defended volunteers \
charged for giving a lift to a family in the rain, for letting people sleep in a church hall and \
for handing out water near a border crossing.

The international definition of smuggling requires a financial or other material benefit. \
Several national laws in the region leave that element out, so any help with entry or stay can \
be prosecuted. The review should ask every government whether its law contains the benefit \
element and an explicit humanitarian exemption, and whether prosecutors have guidance on \
using it.""",
        day=1.4,
        replies=(
            Post(
                "ingrid.solberg",
                (9,),
                """\
Thank you, Sofia. The benefit element was included precisely so that family members, \
religious groups and humanitarian workers would not be caught by smuggling offences. Our office \
has drafted model guidance for prosecutors that spells this out, with examples of what is and \
is not smuggling.

Guidance only helps if it reaches investigators, though. Would it be useful for the review to \
include a short survey of how many prosecutions in the region concerned people who made no \
profit at all?""",
                hours=19.5,
                replies=(
                    Post(
                        "sofia.lindqvist",
                        (9, 16),
                        """\
Yes, a survey would help, and it should count investigations and arrests as well as \
prosecutions. Most of our clients are never convicted, but a night in custody and a seized car \
are enough to make volunteers stop.

We would also ask that the survey include search and rescue crews and people who provide legal \
information, not only those who give food and shelter.""",
                        hours=8.75,
                        replies=(
                            Post(
                                "lucia.ferrand",
                                (9, 11),
                                """\
Valdoria amended its criminal code in 2024 for exactly this reason. Helping someone to enter or \
stay is now an offence only when done for profit, and humanitarian assistance is expressly \
excluded. The prosecutor general issued instructions at the same time.

Investigations of humanitarian actors fell sharply in the first year. We are happy to share the \
text of the amendment and the instructions with other governments during the review.""",
                                hours=30.4,
                                replies=(
                                    Post(
                                        "mateo.villanueva",
                                        (9,),
                                        """\
That matches what we see in court records. In a sample of 400 smuggling cases from four \
countries, the share involving no payment at all dropped from about one in five to one in \
twenty where an exemption was adopted together with prosecutorial guidance. Where only the law \
changed, the drop was much smaller.

The lesson for the review: law and guidance have to move together.""",
                                        hours=25.3,
                                    ),
                                ),
                            ),
                        ),
                    ),
                ),
            ),
            Post(
                "amara.nwosu",
                (8, 9),
                """\
I would add rescue at sea to this priority. Two of our boats were held in port for weeks last \
year on the suspicion that rescuing people "facilitates" irregular entry. While they were held, \
nobody else covered that stretch of sea. Saving lives (objective 8) and countering smuggling \
(objective 9) should not be set against each other.""",
                hours=13.2,
            ),
        ),
    ),
    Post(
        "tomas.adeyemi",
        (4,),
        """\
Legal identity should be near the top of the agenda. Without a birth certificate or an identity \
document, a person cannot open a bank account, sign a lease or prove who they are when returning \
home. In Castellan, almost one in ten children born to parents without documents were not \
registered at birth until we allowed registration regardless of the parents' status.

We would encourage the review to look at two questions: whether civil registration is open to \
everyone born on a State's territory, and whether consulates can issue documents to nationals \
abroad quickly and at a reasonable cost.""",
        day=3.7,
        replies=(
            Post(
                "noor.saleh",
                (4, 15),
                """\
From my work as an interpreter: many people do have documents, but the registry office will \
not accept them because they are in another language and a certified translation costs more \
than a week's wages. A list of translators paid by the authorities, or acceptance of \
translations made by accredited community interpreters, would help a great deal.""",
                hours=17.6,
            ),
            Post(
                "hodan.farah",
                (4, 21),
                """\
The same gap hits people who return. Members of our association came back after ten or fifteen \
years abroad with expired passports and children born in another country. Until those children \
were registered, they could not enrol in school, and families waited months for a hearing.""",
                hours=21.9,
                replies=(
                    Post(
                        "tomas.adeyemi",
                        (4, 21),
                        """\
Hodan, this is why we started mobile registration teams that visit reception centres and \
return areas once a month. They register births on the spot and issue a temporary certificate \
the same day. It is not enough yet, but waiting times fell from months to weeks. I would be \
glad to connect your association with the team that covers the eastern provinces.""",
                        hours=15.5,
                    ),
                ),
            ),
        ),
    ),
    Post(
        "ingrid.solberg",
        (13,),
        """\
We hope the review will give real attention to alternatives to detention. The evidence from \
pilot programmes in the region is consistent: when people have a case manager, clear \
information and a place to live, most of them stay in contact with the authorities until their \
case is decided, and it costs far less than detention.

Children should never be detained for migration reasons. The review could ask governments to \
report how many children were detained last year and what they are doing to bring that number \
to zero.""",
        day=6.9,
        replies=(
            Post(
                "marta.kowal",
                (13, 16),
                """\
Portavela has run a community placement programme with two local NGOs since 2023. About 180 \
people have been housed in ordinary flats with a case worker instead of being detained. More \
than nine in ten kept all their appointments. The city paid for housing at first; the national \
ministry now covers half the cost, which shows the model can be shared between levels of \
government.""",
                hours=27.7,
            ),
        ),
    ),
)

_Q2 = (
    # 2. Practices, partnerships and innovations
    Post(
        "priya.raman",
        (10,),
        """\
Banks see traces of trafficking that no one else does: many wages paid into one account, rent \
for several flats paid by one person, transfers to recruitment agents just before travel. With \
other banks in our network, we have agreed a shared list of warning signs and trained our \
analysts to use them, and our reports to the financial intelligence unit have become much more \
useful to investigators.

The other side is inclusion. We now open basic accounts for survivors referred by support \
organisations, even when they lack the usual proof of address. Having their own account is \
often what lets people leave an exploitative employer for good.""",
        day=9.2,
        replies=(
            Post(
                "samuel.otieno",
                (10, 11),
                """\
Good practice, but I would add a warning. Drivers and warehouse workers in our federation have \
had their accounts frozen because their pay came through an agency that was under \
investigation. They were victims of the scheme, not part of it. Warning signs must not become a \
reason to close the accounts of low-paid migrant workers.""",
                hours=29.1,
                replies=(
                    Post(
                        "priya.raman",
                        (10,),
                        """\
Fair point, Samuel. Our guidance now says that an account linked to a suspected trafficking \
case must not be closed without a review of whether the holder is a possible victim, and we \
refer those cases to a support organisation instead. I would welcome the federation's input \
when we update the list next year.""",
                        hours=19.8,
                    ),
                ),
            ),
        ),
    ),
    Post(
        "mateo.villanueva",
        (8, 11),
        """\
Three resources that other participants may find useful for this question:

<ul>
<li>Our open dataset of border deaths and disappearances, updated monthly: \
<a href="https://data.example.org/border-deaths">Border deaths dataset</a></li>
<li>A comparative study of joint border posts and how they handle protection screening: \
<a href="https://www.example.net/studies/joint-border-posts">Joint border posts study (PDF)</a></li>
<li>A short guide for families searching for missing relatives, available in five languages: \
https://example.com/missing-relatives-guide</li>
</ul>

We would welcome corrections to the dataset from anyone with better local information; there \
is a form on the dataset page. Older material is archived at http://archive.example.org/border.""",
        day=11.6,
        replies=(
            Post(
                "rafael.mendes",
                (11,),
                """\
Thank you, Mateo, the study on joint border posts is helpful. In our experience, the posts \
where officers from both countries sit in one building and share one screening form refer far \
more people to asylum and child protection services than the posts where each side keeps its \
own procedure. The Commission will propose a common screening form at the review.""",
                hours=39.4,
            ),
        ),
    ),
    Post(
        "marta.kowal",
        (13, 15, 16),
        """\
Cities are where alternatives to detention succeed or fail. People released into the community \
need a doctor, a school place for their children and somewhere to ask questions. In Portavela \
we made a simple rule: city services do not ask about migration status and do not pass \
information to immigration enforcement. Attendance at health check-ups went up and more people \
came forward as victims of exploitation.

We think this is relevant to objectives 15 and 16 as well, even though they are not formally \
under review here.""",
        day=14.3,
        replies=(
            Post(
                "noor.saleh",
                (16,),
                """\
I have interpreted at many of those city appointments. What made the difference was not only \
the rule but that staff explained it at the start of every meeting. People relaxed and asked \
the questions they had been afraid to ask.""",
                hours=11.6,
            ),
        ),
    ),
    Post(
        "amara.nwosu",
        (8,),
        """\
One practice worth sharing: a single alert number, run jointly by rescue NGOs and two coastal \
authorities, which relays calls from boats in distress to every vessel nearby at the same time. \
Since it started, the time between the first call and a rescue has roughly halved.

We also need better work on identifying those who die. Families should be able to give DNA \
samples at a consulate and have them compared across countries, instead of travelling from \
morgue to morgue.""",
        day=15.8,
        replies=(
            Post(
                "ingrid.solberg",
                (8, 23),
                """\
Amara, several agencies are working on exactly this: a shared protocol so that forensic \
records and family samples can be matched across borders with the families' consent and strong \
data protection. The review would be a good moment for governments to commit to joining it.""",
                hours=25.9,
            ),
        ),
    ),
)

_LONG_RETURN_COMMENT = """\
Our association brings together people who have come back to the Eastern Corridor, some by \
choice, many after a removal order. I want to describe what return looks like from the inside, \
because the figures the review will see (returns carried out, reintegration packages paid) say \
very little about whether a return was safe, dignified or lasting.

The first problem is timing. Most of our members were told they would be returned only days \
before the flight. There was no time to collect wages owed, close a bank account, sell \
belongings or tell family at home. People arrive with a plastic bag and a debt. If return is \
to be dignified, people need notice and help to settle their affairs before they leave, not \
only a cash grant after they arrive.

The second problem is documents. Members arrive with an emergency travel document that is \
not accepted by banks or employers at home. Children born abroad often have no documents from \
our country at all. Until they are registered, they cannot go to school. Objective 4 and \
objective 21 are closely linked, and the review should treat them together.

The third problem is what people return to. Many left because of debt, lack of work or threats. \
Those reasons have not gone away. Reintegration support that lasts three months cannot fix \
this. Members who received a small business grant but no advice or follow-up often lost the \
business within a year. The programmes that worked combined support over a longer period with \
a person to call when things went wrong, and involved the local community so that returnees \
were not seen as privileged.

The fourth problem is stigma. Returnees are often seen as failures, or as carriers of disease, \
or as people with money. Several members were targeted by the same recruiters and smugglers \
who sent them abroad the first time, because they were seen as easy to persuade again. \
Reintegration and the fight against smuggling and trafficking should not be separate conversations.

Finally, we ask that returnees are heard directly. Our association has collected more than \
two hundred testimonies. We are willing to share them, with consent, and to help design \
follow-up surveys a year or two after return. If sustainable reintegration is a goal, someone \
has to ask returnees whether it was achieved.

Our concrete proposals for the review:

<ol>
<li>At least two weeks' notice before any return, with access to legal advice.</li>
<li>Documents issued before departure that are valid for all purposes at home.</li>
<li>Reintegration support for at least a year, with a named contact person.</li>
<li>Independent follow-up of returnees, including by returnee organisations.</li>
</ol>"""

_Q3 = (
    # 3. Emerging and growing challenges
    Post(
        "hodan.farah",
        (21, 4, 10),
        _LONG_RETURN_COMMENT,
        day=18.45,
        replies=(
            Post(
                "rafael.mendes",
                (21,),
                """\
Thank you for this, Hodan. Member States of the Commission agreed last year that reintegration \
plans should begin before departure, but you are right that this rarely happens in practice. \
Would your association be willing to present some of the testimonies at a side event during \
the review?""",
                hours=35.2,
                replies=(
                    Post(
                        "hodan.farah",
                        (21,),
                        """\
Yes, we would be glad to. We would ask that two or three members speak for themselves, with \
travel costs covered, rather than our staff speaking on their behalf.""",
                        hours=19.3,
                    ),
                ),
            ),
        ),
    ),
    Post(
        "samuel.otieno",
        (9, 10, 11),
        """\
A growing problem for our members is being treated as smugglers. Lorry drivers are fined or \
prosecuted when people are found hidden in their trailers, even when they had no idea. Some \
companies now deduct the fines from drivers' wages. Meanwhile, those who organise the journeys \
are rarely caught.

We would like the review to ask for carrier sanctions to be applied to companies, not to \
individual drivers, and for drivers who report finding people to be protected from prosecution.""",
        day=21.1,
        replies=(
            Post(
                "lucia.ferrand",
                (11,),
                """\
Samuel, our border police now follow a rule that a driver who calls the authorities as soon \
as people are discovered is treated as a witness, not a suspect. Drivers' reports have \
doubled since then, and several of them led to the organisers. We would support including \
this in the review's recommendations.""",
                hours=31.7,
            ),
        ),
    ),
    Post(
        "mateo.villanueva",
        (11, 13),
        """\
Border management is becoming digital very quickly: biometric registration at entry, shared \
watch lists, automated risk scoring of travellers. These systems can make procedures faster, \
but errors are hard to correct. We have documented cases of people detained for weeks because \
their fingerprints were wrongly matched to someone else's record.

The review should address how people can find out what data is held about them and have it \
corrected, and whether automated risk scores are ever used to decide on detention.""",
        day=23.65,
        replies=(
            Post(
                "tomas.adeyemi",
                (4, 11),
                """\
These concerns apply to digital identity too. Castellan is introducing a digital ID, and we \
have decided that nobody may be refused a public service because their biometric check fails; \
a paper alternative must always remain available. It would be helpful to hear how other \
governments handle failed matches.""",
                hours=21.4,
                replies=(
                    Post(
                        "noor.saleh",
                        (4,),
                        """\
Please also make sure people are told, in a language they understand, why a check failed and \
what they can do. I often find that nobody has explained this to them at all.""",
                        hours=14.6,
                    ),
                ),
            ),
        ),
    ),
    Post(
        "sofia.lindqvist",
        (13,),
        """\
A short addition to the challenges: detention of families with children is rising again in \
two countries of the region, after years of decline. Alternatives exist and have been shown \
to work, as others have described above. The review should say clearly that detaining \
children is never in their best interests.""",
        day=27.8,
    ),
)

OPEN_CONSULTATION = ConsultationSpec(
    slug="regional-review-2026-safe-borders-and-return",
    title="Regional review 2026: identity, rescue, safe borders and return",
    description=_OPEN_DESCRIPTION,
    objectives=(4, 8, 9, 10, 11, 13, 21),
    opens_days_ago=35,
    closes_in_days=28,
    questions=(
        "What priorities should shape the regional review of these seven objectives, and where "
        "is progress most urgently needed?",
        "Which practices, partnerships or innovations since the last review deserve to be "
        "shared with other countries?",
        "What new or growing challenges should the review address, and what would help to "
        "overcome them?",
    ),
    threads={1: _Q1, 2: _Q2, 3: _Q3},
)


# --- The closed consultation -------------------------------------------------------------------

_CLOSED_DESCRIPTION = """\
This first round of consultation collected views on <strong>regular pathways (5), fair \
recruitment and decent work (6), skills and their recognition (18) and remittances and \
financial inclusion (20)</strong>.

It was moderated by the <em>Regional Mobility Observatory</em> and closed on \
<strong>{closes_on}</strong>. A summary of the contributions will be published with the \
background note. Thank you to everyone who took part."""

CLOSED_CONSULTATION = ConsultationSpec(
    slug="skills-recruitment-remittances-first-round",
    title="Skills, recruitment and remittances: first round",
    description=_CLOSED_DESCRIPTION,
    objectives=(5, 6, 18, 20),
    opens_days_ago=140,
    closes_in_days=-84,
    questions=(
        "Which barriers most limit regular pathways, fair recruitment and the recognition of "
        "skills?",
        "How could remittances become cheaper and safer, and what would it take for migrants "
        "to be fully included in the financial system?",
    ),
    threads={
        1: (
            Post(
                "samuel.otieno",
                (6,),
                """\
Recruitment fees remain the biggest barrier. Workers in our sector routinely pay two or three \
months' wages to agents before they travel, and arrive in debt. The principle that employers, \
not workers, pay recruitment costs should be written into every labour migration agreement.""",
                day=2.6,
                replies=(
                    Post(
                        "lucia.ferrand",
                        (5, 6),
                        """\
Valdoria's new seasonal work agreement includes exactly that principle, and licensed agencies \
that charge workers lose their licence. Enforcement is the hard part: we depend on workers \
reporting, and many are afraid to.""",
                        hours=29.6,
                        replies=(
                            Post(
                                "samuel.otieno",
                                (6,),
                                """\
That fear is why unions should be allowed to meet workers on arrival. A complaint made \
through a union is much less risky for the individual worker.""",
                                hours=17.9,
                            ),
                        ),
                    ),
                ),
            ),
            Post(
                "mateo.villanueva",
                (18,),
                """\
Our survey of nurses and engineers trained abroad found that recognising their qualifications \
took on average 19 months. Most of them worked below their skill level in the meantime. \
Partial recognition and supervised practice while the procedure runs would make a big \
difference.""",
                day=9.35,
            ),
        ),
        2: (
            Post(
                "priya.raman",
                (20,),
                """\
Costs have fallen for digital transfers, but many migrants still cannot open an account \
because of identity and address requirements. Simplified accounts with lower limits, opened \
with any valid identity document, would bring many senders into cheaper channels.""",
                day=5.8,
                replies=(
                    Post(
                        "hodan.farah",
                        (20, 4),
                        """\
For many families at home, the problem is at the receiving end: the nearest agent is hours \
away and charges extra in cash. Mobile wallets that work without a bank branch have helped \
our members' families more than any fee reduction.""",
                        hours=25.6,
                    ),
                ),
            ),
        ),
    },
)

CONSULTATIONS = (OPEN_CONSULTATION, CLOSED_CONSULTATION)
