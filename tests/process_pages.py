"""Every page of a process, found from the URL configuration itself, with a sample row of the
process for each part of its address: a page added later is measured without being listed.
Shared by tests/test_flat_queries.py and bench/pages.py."""

import uuid

from django.urls import URLPattern, URLResolver, get_resolver, reverse

from uphold.accounts.models import Invitation
from uphold.demands.models import ChangeProposal
from uphold.mailin.models import Address, ImapAccount, MailImport
from uphold.people.models import Person
from uphold.processes.models import Membership, Process
from uphold.programmes.models import Referral
from uphold.record.models import Entry, Meeting, Step
from uphold.reflections.models import Reflection, Review
from uphold.survivor.models import ItemRequest, Withholding

PREFIX = "p/<slug:code>/"


def _routes(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.name, list(pattern.pattern.converters)


def samples(process: Process) -> dict[str, object]:
    """One row of the process for each kind of id in a process page's address (the newest; a
    made-up id where the process has none, which every size answers alike)."""
    meeting = Meeting.objects.filter(process=process).exclude(outcome="").order_by("-pk").first()
    proposal = ChangeProposal.objects.filter(process=process).order_by("-pk").first()
    invitation = Invitation.objects.filter(process=process).order_by("-pk").first()
    person = Person.objects.filter(process=process).order_by("-pk").first()
    reflection = Reflection.objects.filter(process=process).order_by("-pk").first()
    review = Review.objects.filter(process=process).order_by("-pk").first()
    referral = Referral.objects.filter(process=process).order_by("-pk").first()
    withholding = Withholding.objects.filter(process=process).order_by("-pk").first()
    request = ItemRequest.objects.filter(process=process).order_by("-pk").first()
    address = Address.objects.filter(process=process).order_by("-pk").first()
    batch = MailImport.objects.filter(process=process).order_by("-pk").first()
    account = ImapAccount.objects.filter(process=process).order_by("-pk").first()
    return {
        "code": process.code,
        "number": 1,
        "revision": 1,
        "entry_id": Entry.objects.filter(process=process).order_by("-pk").first().pk,
        "meeting_id": meeting.pk if meeting else 0,
        "step_id": Step.objects.filter(process=process).order_by("-pk").first().pk,
        "member_id": Membership.objects.filter(process=process, role="respondent").first().pk,
        "proposal_id": proposal.pk if proposal else 0,
        "invitation_id": invitation.pk if invitation else 0,
        "attachment_id": uuid.UUID(int=0),
        "person_id": person.pk if person else 0,
        "reflection_id": reflection.pk if reflection else 0,
        "review_id": review.pk if review else 0,
        "referral_id": referral.pk if referral else 0,
        "withholding_id": withholding.pk if withholding else 0,
        "request_id": request.pk if request else 0,
        "address_id": address.pk if address else 0,
        "batch_id": batch.pk if batch else 0,
        "account_id": account.pk if account else 0,
    }


def process_urls(process: Process) -> list[tuple[str, str]]:
    """(route name, address) of every page under /p/<code>/. An id without a sample is an
    error: add it to `samples`, so that the new page is measured."""
    known = samples(process)
    urls = []
    for route, name, parts in _routes(get_resolver().url_patterns):
        if route.startswith(PREFIX):
            missing = [part for part in parts if part not in known]
            if missing:
                raise KeyError(f"no sample for {missing} of {route}")
            urls.append((name, reverse(name, kwargs={part: known[part] for part in parts})))
    return urls
