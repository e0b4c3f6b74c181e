"""The programme directory and a referral in a real browser, at phone width, axe on each page:
a programme added, a CSV file refused with its row and column, a referral the group researched,
refused by X with his reason."""

import secrets

from .conftest import checked, screenshot


def test_the_directory_and_a_referral_the_group_researched(page_as, server, visits, tmp_path):
    page = page_as("contact")
    url = server["url"]
    page.goto(f"{url}/")
    checked(page, visits)
    page.get_by_role("link", name="Programme directory").click()
    checked(page, visits)
    assert page.get_by_role("link", name="Example programme Nord").is_visible()

    name = f"Example programme {secrets.token_hex(3)}"
    page.get_by_role("link", name="Add a programme").click()
    checked(page, visits)
    assert page.get_by_text("never anything about a case").is_visible()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Region").fill("Bremen")
    page.get_by_label("Kind").select_option("online")
    page.get_by_label("Languages").fill("German, English")
    page.get_by_role("button", name="Add").click()
    checked(page, visits)
    assert page.get_by_role("heading", name=name).is_visible()
    page.get_by_role("link", name="Edit").click()
    checked(page, visits)
    page.get_by_label("Contact").fill("bremen.example.org")
    page.get_by_role("button", name="Save").click()
    checked(page, visits)
    assert page.get_by_text("when contact changed it, it said").is_visible()

    page.goto(f"{url}/programmes/?kind=online&language=German")
    checked(page, visits)
    assert page.get_by_role("link", name=name).is_visible()
    assert page.get_by_role("link", name="Example programme Nord").count() == 0

    bad = tmp_path / "programmes.csv"
    bad.write_text("name,region,kind,hears_survivor\nA,Kiel,group,yes\nB,Kiel,weekly,yes\n")
    page.goto(f"{url}/programmes/import/")
    checked(page, visits)
    page.get_by_label("CSV file").set_input_files(str(bad))
    page.get_by_role("button", name="Import").click()
    checked(page, visits)
    assert page.get_by_text("Row 3, column “kind”").is_visible()
    assert page.get_by_text("Nothing was imported", exact=True).is_visible()

    page.goto(f"{url}/p/kestrel/programme/")
    checked(page, visits)
    page.get_by_role("link", name="Record a programme considered").click()
    checked(page, visits)
    page.get_by_label("Programme", exact=True).select_option(label=f"{name} (Bremen)")
    page.get_by_label("the group").check()
    page.get_by_role("button", name="Record").click()
    checked(page, visits)
    assert page.get_by_text(
        "the group doing it for him is the responsibility-shifting"
    ).is_visible()
    page.get_by_role("link", name="Record a change").click()
    checked(page, visits)
    page.get_by_label("Status").select_option("refused")
    page.get_by_role("button", name="Record").click()
    checked(page, visits)  # refused: his reasons are needed
    assert page.get_by_text("Write down the reasons X gave").is_visible()
    page.get_by_label("X's stated reasons").fill("He is different from the others, he says.")
    page.get_by_role("button", name="Record").click()
    checked(page, visits)
    assert page.get_by_text("He is different from the others, he says.").is_visible()
    page.goto(f"{url}/p/kestrel/programme/")
    checked(page, visits)
    assert page.get_by_text("The group researched 2 of these programmes itself").is_visible()
    screenshot(page, "referrals")


def test_the_support_group_reads_the_referral_and_x_sees_no_programme_tab(page_as, server, visits):
    support = page_as("support")
    support.goto(f"{server['url']}/p/kestrel/programme/1/")
    checked(support, visits)
    assert support.get_by_text("considers himself different").is_visible()
    assert support.get_by_role("link", name="Record a change").count() == 0
    respondent = page_as("respondent")
    respondent.goto(f"{server['url']}/p/kestrel/")
    checked(respondent, visits)
    assert respondent.get_by_role("link", name="Programme").count() == 0
    response = respondent.goto(f"{server['url']}/programmes/")
    assert response.status == 403
    checked(respondent, visits)
