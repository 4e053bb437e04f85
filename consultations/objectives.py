"""The 23 GCM objectives' English titles and short labels, marked for translation."""

# ruff: noqa: E501 (the official titles are long; one per line reads best)

from django.utils.translation import gettext_noop

# Exactly the strings of migration 0002_gcm_objectives, in objective order (tests check this).
TITLES = (
    gettext_noop(
        "Collect and utilize accurate and disaggregated data as a basis for evidence-based policies"
    ),
    gettext_noop(
        "Minimize the adverse drivers and structural factors that compel people to leave their country of origin"
    ),
    gettext_noop("Provide accurate and timely information at all stages of migration"),
    gettext_noop(
        "Ensure that all migrants have proof of legal identity and adequate documentation"
    ),
    gettext_noop("Enhance availability and flexibility of pathways for regular migration"),
    gettext_noop(
        "Facilitate fair and ethical recruitment and safeguard conditions that ensure decent work"
    ),
    gettext_noop("Address and reduce vulnerabilities in migration"),
    gettext_noop("Save lives and establish coordinated international efforts on missing migrants"),
    gettext_noop("Strengthen the transnational response to smuggling of migrants"),
    gettext_noop(
        "Prevent, combat and eradicate trafficking in persons in the context of international migration"
    ),
    gettext_noop("Manage borders in an integrated, secure and coordinated manner"),
    gettext_noop(
        "Strengthen certainty and predictability in migration procedures for appropriate screening, assessment and referral"
    ),
    gettext_noop(
        "Use migration detention only as a measure of last resort and work towards alternatives"
    ),
    gettext_noop(
        "Enhance consular protection, assistance and cooperation throughout the migration cycle"
    ),
    gettext_noop("Provide access to basic services for migrants"),
    gettext_noop("Empower migrants and societies to realize full inclusion and social cohesion"),
    gettext_noop(
        "Eliminate all forms of discrimination and promote evidence-based public discourse to shape perceptions of migration"
    ),
    gettext_noop(
        "Invest in skills development and facilitate mutual recognition of skills, qualifications and competences"
    ),
    gettext_noop(
        "Create conditions for migrants and diasporas to fully contribute to sustainable development in all countries"
    ),
    gettext_noop(
        "Promote faster, safer and cheaper transfer of remittances and foster financial inclusion of migrants"
    ),
    gettext_noop(
        "Cooperate in facilitating safe and dignified return and readmission, as well as sustainable reintegration"
    ),
    gettext_noop(
        "Establish mechanisms for the portability of social security entitlements and earned benefits"
    ),
    gettext_noop(
        "Strengthen international cooperation and global partnerships for safe, orderly and regular migration"
    ),
)

SHORT_TITLES = (
    gettext_noop("Data for evidence-based policy"),
    gettext_noop("Adverse drivers of migration"),
    gettext_noop("Information at all stages"),
    gettext_noop("Legal identity and documentation"),
    gettext_noop("Regular pathways"),
    gettext_noop("Fair recruitment and decent work"),
    gettext_noop("Reducing vulnerabilities"),
    gettext_noop("Saving lives; missing migrants"),
    gettext_noop("Countering smuggling"),
    gettext_noop("Ending trafficking"),
    gettext_noop("Border management"),
    gettext_noop("Predictable procedures and referral"),
    gettext_noop("Alternatives to detention"),
    gettext_noop("Consular protection"),
    gettext_noop("Access to basic services"),
    gettext_noop("Inclusion and social cohesion"),
    gettext_noop("Ending discrimination"),
    gettext_noop("Skills and recognition"),
    gettext_noop("Diaspora contributions"),
    gettext_noop("Remittances and financial inclusion"),
    gettext_noop("Return and reintegration"),
    gettext_noop("Portable social security"),
    gettext_noop("International cooperation"),
)
