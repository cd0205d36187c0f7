"""E-mail intake from a Maildir and from IMAP, idempotent by Message-ID."""

import mailbox
from email.message import EmailMessage

import pytest
from conftest import GUDONG
from django.core.management import CommandError, call_command

from bianmin.appeals import mail
from bianmin.appeals.models import Appeal


def message(subject, body, *, sender="王女士 <wang@example.com>", message_id="<m1@example.com>", attachment=None):
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "gdzx@example.gov.cn"
    msg["Subject"] = subject
    if message_id:
        msg["Message-ID"] = message_id
    msg.set_content(body)
    if attachment:
        msg.add_attachment(attachment, maintype="image", subtype="png", filename="现场.png")
    return msg


@pytest.fixture
def maildir(tmp_path):
    box = mailbox.Maildir(tmp_path / "inbox", create=True)
    box.add(message("【投诉】窗口人员态度差", "今天上午在3号窗口被训斥。", attachment=b"\x89PNG\r\n\x1a\n fake"))
    box.add(message("咨询居住证办理", "请问居住证需要哪些材料？", message_id="<m2@example.com>",
                    sender="li@example.com"))
    box.add(message("<script>x</script>", "<img src=x onerror=alert(1)>", message_id="<m3@example.com>"))
    return str(tmp_path / "inbox")


def test_maildir_intake_is_idempotent(areas, maildir, capsys):
    call_command("appeals_fetch_mail", "--area", GUDONG, "--maildir", maildir)
    assert "新登记 3 件" in capsys.readouterr().out
    complaint = Appeal.objects.get(message_id="<m1@example.com>")
    assert complaint.kind == "complaint" and complaint.title == "窗口人员态度差" and complaint.channel == "email"
    assert complaint.name == "王女士" and complaint.email == "wang@example.com"
    assert complaint.first_receiver_label == "鼓东街道诉求邮箱"
    assert complaint.attachments.get().name == "现场.png"
    consult = Appeal.objects.get(message_id="<m2@example.com>")
    assert consult.kind == "consult" and consult.name == "li"
    assert Appeal.objects.get(message_id="<m3@example.com>").title == "<script>x</script>"
    call_command("appeals_fetch_mail", "--area", GUDONG, "--maildir", maildir)
    assert "新登记 0 件，已登记过 3 件" in capsys.readouterr().out
    assert Appeal.objects.count() == 3


def test_imap_intake(areas, monkeypatch):
    raw = [message("【建议】增加自助机", "希望增加自助打印机", message_id=f"<imap{i}@x>").as_bytes() for i in range(2)]

    class FakeIMAP:
        def __init__(self, host, port):
            self.calls = [("connect", host, port)]

        def login(self, user, password):
            assert (user, password) == ("gdzx", "secret")

        def select(self, folder, readonly=False):
            assert readonly

        def search(self, charset, criterion):
            return "OK", [b"1 2"]

        def fetch(self, num, what):
            return "OK", [(b"1 (RFC822 {100}", raw[int(num) - 1]), b")"]

        def logout(self):
            pass

    monkeypatch.setattr(mail.imaplib, "IMAP4_SSL", FakeIMAP)
    monkeypatch.setenv("BIANMIN_IMAP_PASSWORD", "secret")
    call_command("appeals_fetch_mail", "--area", GUDONG, "--imap-host", "imap.example.gov.cn", "--imap-user", "gdzx")
    call_command("appeals_fetch_mail", "--area", GUDONG, "--imap-host", "imap.example.gov.cn", "--imap-user", "gdzx")
    assert Appeal.objects.filter(kind="suggestion", channel="email").count() == 2


def test_missing_source_or_password(areas, monkeypatch):
    with pytest.raises(CommandError):
        call_command("appeals_fetch_mail", "--area", GUDONG)
    monkeypatch.delenv("BIANMIN_IMAP_PASSWORD", raising=False)
    with pytest.raises(CommandError):
        call_command("appeals_fetch_mail", "--area", GUDONG, "--imap-host", "h", "--imap-user", "u")


def test_message_without_id_is_identified_by_content(areas, tmp_path):
    box = mailbox.Maildir(tmp_path / "b", create=True)
    box.add(message("咨询", "内容", message_id=None))
    for _ in range(2):
        mail.ingest(mail.from_maildir(str(tmp_path / "b")), area=areas[GUDONG])
    assert Appeal.objects.count() == 1 and Appeal.objects.get().message_id.startswith("<sha256-")
