"""Telling people when a night goes wrong: an e-mail (SMTP) and, optionally, a webhook.

Plain functions, called by the alert sensors (``orchestration/alerts.py``) that the
dagster-daemon runs, so an alert needs no UI open and no one watching. Settings come from the
environment (``contracts.settings.ServiceSettings``): ``LLIF_SMTP_HOST`` and ``LLIF_ALERT_TO`` at
least; ``LLIF_ALERT_WEBHOOK`` for a JSON POST (Teams, Slack or any incident tool's inbound hook).
A sending failure is raised, never swallowed: the sensor's tick then fails and shows in Dagster.
"""

from __future__ import annotations

import json
import smtplib
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage

from contracts.settings import ServiceSettings, service_settings


class AlertNotConfigured(RuntimeError):
    pass


@dataclass(frozen=True)
class Alert:
    subject: str
    body: str
    run_id: str
    kind: str  # "run_failure" or "check_failure"
    url: str | None = None  # the run in the Dagster UI, when known

    def as_json(self) -> dict:
        return {"text": f"{self.subject}\n\n{self.body}", "subject": self.subject, "kind": self.kind,
                "run_id": self.run_id, "url": self.url}


def send(alert: Alert, settings: ServiceSettings | None = None) -> list[str]:
    """Send ``alert`` by every configured channel; returns which were used."""
    s = settings or service_settings()
    used = []
    if s.smtp_host and s.alert_to:
        msg = EmailMessage()
        msg["Subject"] = alert.subject
        msg["From"] = s.alert_from
        msg["To"] = ", ".join(s.alert_to)
        msg["X-llif-run-id"] = alert.run_id
        msg.set_content(alert.body + (f"\n\nThe run in Dagster: {alert.url}\n" if alert.url else ""))
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=30) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password or "")
            smtp.send_message(msg)
        used.append("email")
    if s.alert_webhook:
        req = urllib.request.Request(s.alert_webhook, data=json.dumps(alert.as_json()).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=30) as resp:
            resp.read()
        used.append("webhook")
    if not used:
        raise AlertNotConfigured("no alert channel is configured: set LLIF_SMTP_HOST and LLIF_ALERT_TO "
                                 "(and/or LLIF_ALERT_WEBHOOK) in the services' environment")
    return used


def run_failure_alert(job: str, run_id: str, failed_steps: list[tuple[str, str]], failed_checks: list[str],
                      url: str | None = None) -> Alert:
    lines = [f"The {job} run {run_id} failed."]
    for step, error in failed_steps:
        lines.append(f"- step {step}: {error}")
    if failed_checks:
        lines.append("\nChecks that failed:")
        lines += [f"- {c}" for c in failed_checks]
    lines.append("\nWhat to do: open the run in the Dagster UI, fix the cause, then re-execute from failure. "
                 "The explorer keeps showing the last complete night meanwhile.")
    first = failed_steps[0][0] if failed_steps else "a step"
    return Alert(f"llif: the night failed ({first})", "\n".join(lines), run_id, "run_failure", url)


def check_failure_alert(job: str, run_id: str, failed_checks: list[str], url: str | None = None) -> Alert:
    body = "\n".join([f"The {job} run {run_id} finished, but {len(failed_checks)} check(s) failed:"]
                     + [f"- {c}" for c in failed_checks]
                     + ["\nThe figures were published; look at these before relying on them."])
    return Alert(f"llif: {len(failed_checks)} check(s) failed tonight", body, run_id, "check_failure", url)
