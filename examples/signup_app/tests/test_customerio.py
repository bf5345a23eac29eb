"""What the app sends to Customer.io, checked in roster: customerio-python over HTTPS, each test
in an empty workspace of its own."""

from __future__ import annotations

from signup_app.accounts import Accounts


def test_a_lead_who_signs_up_becomes_one_customer(roster):
    accounts = Accounts(roster.customerio())

    accounts.join_waitlist("ada@example.com")
    accounts.sign_up("ada-1", "ada@example.com", plan="pro")

    # expect() compares attribute values and, when one differs, prints the whole person.
    ada = roster.person("ada-1").expect(email="ada@example.com", plan="pro", source="waitlist")
    assert roster.person("ada@example.com", id_type="email").cio_id == ada.cio_id


def test_the_signup_event_is_sent_once_and_the_upgrade_after_it(roster):
    accounts = Accounts(roster.customerio())

    accounts.sign_up("ada-1", "ada@example.com")
    accounts.upgrade("ada-1", "team")

    assert [(e.name, e.data) for e in roster.events("ada-1")] == [
        ("signed_up", {"plan": "free"}),
        ("upgraded", {"plan": "team"}),
    ]
    assert roster.person("ada-1").attributes["plan"] == "team"


def test_a_registered_device_belongs_to_the_person(roster):
    accounts = Accounts(roster.customerio())
    accounts.sign_up("ada-1", "ada@example.com")

    accounts.register_device("ada-1", "token-abc", "ios")

    (device,) = roster.person("ada-1").devices
    assert (device.id, device.platform) == ("token-abc", "ios")


def test_each_test_starts_with_an_empty_workspace(roster):
    # The other tests of this module sign ada-1 up; none of it is visible here.
    assert roster.find_person("ada-1") is None
    assert roster.ingestion_log() == []


def test_in_id_only_mode_an_email_looking_reference_is_an_id(roster):
    roster.configure(identifier_mode="id_only")
    accounts = Accounts(roster.customerio())

    accounts.join_waitlist("ada@example.com")

    lead = roster.person("ada@example.com")
    assert lead.id == "ada@example.com"
    assert lead.email == "ada@example.com"  # sent as an attribute, not as the reference
