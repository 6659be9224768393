"""Journey (issue 17): a staff member who forgot the password asks for a
link on a phone (360 px), opens it from the mail the app's worker delivered
over SMTP, sets a new password and logs in; the link then works no more.
Also the logins pages and the devices page, at phone and desktop size."""

import re

from tests.browser.conftest import log_in
from tests.browser.test_accessibility import assert_accessible

EMAIL, OLD, NEW = "forgetful@journey.kr", "old-journey-pass-1", "new-journey-pass-2"
LINK = re.compile(r"https?://\S+/account/reset/[A-Za-z0-9._-]+")


def test_staff_reset_a_forgotten_password_from_the_mail(server, phone, shoot, inbox):
    server.flask(
        "create-user",
        EMAIL,
        "--name",
        "박깜빡",
        "--role",
        "staff",
        "--password-stdin",
        stdin=OLD + "\n",
    )
    page = phone
    page.goto(server.url + "/account/login")
    page.get_by_role("link", name="비밀번호 찾기").click()
    page.wait_for_load_state()
    shoot(page, "forgot")
    assert_accessible(page)
    page.fill("#email", EMAIL)
    page.get_by_role("button", name="링크 받기").click()
    page.wait_for_load_state()
    assert "메일을 확인하세요" in page.locator("h1").inner_text()
    shoot(page, "sent")

    received, _port = inbox
    [mail] = received.wait_for(lambda m: m["To"].addresses[0].addr_spec == EMAIL)
    assert mail["Subject"].startswith("[굿모닝장터]")
    link = LINK.search(mail.get_body(("plain",)).get_content())[0]
    assert link.startswith(server.url)
    page.goto(link)
    assert EMAIL in page.locator("main").inner_text()
    page.fill("#new", NEW)
    page.fill("#confirm", NEW)
    shoot(page, "new-password")
    assert_accessible(page)
    page.get_by_role("button", name="비밀번호 정하기").click()
    page.wait_for_load_state()
    assert "/account/login" in page.url
    assert "비밀번호를 정했습니다" in page.locator(".flash-success").inner_text()

    log_in(page, server.url, EMAIL, NEW)
    assert "/staff/" in page.url
    shoot(page, "logged-in")
    no_overflow = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert no_overflow

    page.goto(link)  # used: it works no more
    assert "더 이상 쓸 수 없습니다" in page.locator("h1").inner_text()
    shoot(page, "used-link")


def test_logins_and_devices_pages_at_both_sizes(server, phone, desktop, shoot):
    server.flask(
        "create-user",
        "colleague@journey.kr",
        "--name",
        "이동료",
        "--role",
        "staff",
        "--password-stdin",
        stdin=OLD + "\n",
    )
    for page in (phone, desktop):
        page.goto(server.url + "/account/login")
        shoot(page, "login")
        log_in(page, server.url)
        for path in ("/staff/users/", "/staff/users/invite", "/account/devices"):
            page.goto(server.url + path)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
            assert_accessible(page)
            shoot(page, path.strip("/").replace("/", "-") or "home")
        page.goto(server.url + "/staff/users/?q=colleague")
        page.get_by_role("link", name="이동료").click()
        page.wait_for_load_state()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert_accessible(page)
        shoot(page, "user")
        page.get_by_role("button", name="모든 기기에서 로그아웃").click()
        page.wait_for_load_state()
        assert "확인" in page.locator("h1").inner_text()  # asked first
        shoot(page, "confirm")
        page.get_by_role("link", name="취소").click()
        page.wait_for_load_state()
