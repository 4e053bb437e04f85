"""The 23 objectives of the Global Compact for Migration (number, official title, short label)."""

from django.db import migrations

OBJECTIVES = (
    (1, 'Collect and utilize accurate and disaggregated data as a basis for evidence-based policies', 'Data for evidence-based policy'),
    (2, 'Minimize the adverse drivers and structural factors that compel people to leave their country of origin', 'Adverse drivers of migration'),
    (3, 'Provide accurate and timely information at all stages of migration', 'Information at all stages'),
    (4, 'Ensure that all migrants have proof of legal identity and adequate documentation', 'Legal identity and documentation'),
    (5, 'Enhance availability and flexibility of pathways for regular migration', 'Regular pathways'),
    (6, 'Facilitate fair and ethical recruitment and safeguard conditions that ensure decent work', 'Fair recruitment and decent work'),
    (7, 'Address and reduce vulnerabilities in migration', 'Reducing vulnerabilities'),
    (8, 'Save lives and establish coordinated international efforts on missing migrants', 'Saving lives; missing migrants'),
    (9, 'Strengthen the transnational response to smuggling of migrants', 'Countering smuggling'),
    (10, 'Prevent, combat and eradicate trafficking in persons in the context of international migration', 'Ending trafficking'),
    (11, 'Manage borders in an integrated, secure and coordinated manner', 'Border management'),
    (12, 'Strengthen certainty and predictability in migration procedures for appropriate screening, assessment and referral', 'Predictable procedures and referral'),
    (13, 'Use migration detention only as a measure of last resort and work towards alternatives', 'Alternatives to detention'),
    (14, 'Enhance consular protection, assistance and cooperation throughout the migration cycle', 'Consular protection'),
    (15, 'Provide access to basic services for migrants', 'Access to basic services'),
    (16, 'Empower migrants and societies to realize full inclusion and social cohesion', 'Inclusion and social cohesion'),
    (17, 'Eliminate all forms of discrimination and promote evidence-based public discourse to shape perceptions of migration', 'Ending discrimination'),
    (18, 'Invest in skills development and facilitate mutual recognition of skills, qualifications and competences', 'Skills and recognition'),
    (19, 'Create conditions for migrants and diasporas to fully contribute to sustainable development in all countries', 'Diaspora contributions'),
    (20, 'Promote faster, safer and cheaper transfer of remittances and foster financial inclusion of migrants', 'Remittances and financial inclusion'),
    (21, 'Cooperate in facilitating safe and dignified return and readmission, as well as sustainable reintegration', 'Return and reintegration'),
    (22, 'Establish mechanisms for the portability of social security entitlements and earned benefits', 'Portable social security'),
    (23, 'Strengthen international cooperation and global partnerships for safe, orderly and regular migration', 'International cooperation'),
)


def add_objectives(apps, schema_editor):
    Objective = apps.get_model("consultations", "Objective")
    for number, title, short_title in OBJECTIVES:
        Objective.objects.update_or_create(
            number=number, defaults={"title": title, "short_title": short_title}
        )


def remove_objectives(apps, schema_editor):
    apps.get_model("consultations", "Objective").objects.filter(
        number__in=[number for number, _, _ in OBJECTIVES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("consultations", "0001_initial")]

    operations = [migrations.RunPython(add_objectives, remove_objectives)]
