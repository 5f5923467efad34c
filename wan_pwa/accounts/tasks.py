"""The accounts' tasks: account mails (verification, password reset, notices) and building a
data export (a thin entry point, see export_archive).

Account mails are sent by the worker: sending from the request would make a reset for a real
account slower than one for an unknown address, which tells anyone which addresses have
accounts; enqueueing is the same small write for both. The message is rendered in the request
(it needs the request's links) and handed to the task as plain data.
"""

from __future__ import annotations

from typing import TypedDict

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django_tasks import task

from wan_pwa.accounts import export_archive

# Above every generation task: someone is waiting for this mail to sign in.
ACCOUNT_MAIL_PRIORITY = 40
# Below every generation task: an export may wait for a user's video, never the other way round.
EXPORT_PRIORITY = -20


class MailData(TypedDict):
    subject: str
    body: str
    from_email: str | None
    to: list[str]
    content_subtype: str
    alternatives: list[tuple[str, str]]


def mail_data(message: EmailMessage) -> MailData:
    alternatives = getattr(message, "alternatives", [])
    return {
        "subject": str(message.subject),
        "body": str(message.body),
        "from_email": message.from_email,
        "to": list(message.to),
        "content_subtype": message.content_subtype,
        "alternatives": [(str(content), str(mimetype)) for content, mimetype in alternatives],
    }


@task(priority=ACCOUNT_MAIL_PRIORITY)
def send_account_mail(data: MailData) -> None:
    message = EmailMultiAlternatives(
        subject=data["subject"],
        body=data["body"],
        from_email=data["from_email"],
        to=data["to"],
        alternatives=[(content, mimetype) for content, mimetype in data["alternatives"]],
    )
    message.content_subtype = data["content_subtype"]
    message.send()


@task(priority=EXPORT_PRIORITY)
def build_data_export(export_id: int) -> str:
    return export_archive.build_data_export(export_id)
