from market.accounts import services as accounts
from market.accounts.models import Role
from market.audit.models import AuditEntry
from market.audit.services import record
from market.extensions import db


def test_record_keeps_actor_before_and_after(staff):
    entry = record(
        staff,
        "user.role_change",
        staff,
        before={"role": Role.VENDOR},
        after={"role": Role.STAFF},
        reason="promoted",
    )
    db.session.commit()
    stored = db.session.get(AuditEntry, entry.id)
    assert stored.actor_label == staff.email
    assert stored.object_type == "users" and stored.object_id == str(staff.id)
    assert stored.before == {"role": "vendor"} and stored.after == {"role": "staff"}
    assert stored.at.tzinfo is not None


def test_staff_browse_and_filter(client, staff, login_as):
    accounts.create_user("a@example.kr", "에이", "long-password-1", Role.VENDOR, actor=staff)
    record(staff, "vendor.approve", ("vendors", 7), after={"status": "approved"})
    db.session.commit()
    login_as(staff)
    page = client.get("/staff/audit/").get_data(as_text=True)
    assert "user.create" in page and "vendor.approve" in page
    filtered = client.get("/staff/audit/?action=vendor.approve").get_data(as_text=True)
    assert "vendor.approve" in filtered and "a@example.kr" not in filtered


def test_audit_list_is_paginated_with_bounded_queries(client, staff, login_as, count_queries):
    for n in range(120):
        record(staff, "test.bulk", ("things", n))
    db.session.commit()
    login_as(staff)
    with count_queries() as small:
        client.get("/staff/audit/")
    for n in range(300):
        record(staff, "test.bulk", ("things", n))
    db.session.commit()
    with count_queries() as large:
        page = client.get("/staff/audit/?page=2").get_data(as_text=True)
    assert large.count == small.count
    assert "다음" in page and "이전" in page
