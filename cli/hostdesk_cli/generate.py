"""``hostdesk generate``: a realistic provider filled in through the real event log, for the read side at scale.

The tree: the provider with its staff in two departments, resellers each with two agents, customers under the
provider and under each reseller, subaccounts under some customers; about a third of the accounts write French.
Then the tickets: each opened by a customer or a subaccount, addressed to its parent (the provider, a reseller,
or the customer that answers its subaccounts), then assigned, answered, noted internally, answered back, resolved
or closed, as support goes: about six events a ticket. Every command is published to the commands stream as the
intake would (JetStream, asynchronously, many in flight), never one HTTP request at a time; the tickets service
applies them in batches into its event log, the relay publishes the events, and the read models follow. The
commands stream is kept from running too far ahead of the tickets service (``window`` commands at most waiting).

Everything is drawn from ``seed``: the same seed makes the same provider, the same tickets, the same command ids,
so a run stopped midway is taken up by running it again (a command applied already is one command). The tickets'
dates are those of the run: the event log records when it applied each command.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import typer
from hostdesk_contracts.base import Actor, Assignee, Channel, Priority, Role, Status, Visibility
from hostdesk_contracts.commands import (
    AssignTicket,
    ChangeStatus,
    CloseTicket,
    CommandBase,
    OpenTicket,
    PostReply,
    ticket_id_for,
)
from hostdesk_contracts.directory import AccountKind, AccountRecord, Language, Record, StaffRecord, StaffRole
from hostdesk_contracts.subjects import MSG_ID, Subjects
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress

from hostdesk_cli.demo import (
    BILLING,
    TECHNICAL_SUPPORT,
    account_record,
    provider_configuration,
    put_record,
    staff_record,
)
from hostdesk_cli.directory import Directory
from hostdesk_cli.ids import now
from hostdesk_cli.nats_directory import connect_nats
from hostdesk_cli.session import session_of

TICKETS_CONSUMER = "tickets"  # the tickets service's durable consumer of the commands stream
_PUT_AT_ONCE = 200  # directory records put together
_LOOK_EVERY = 1_000  # commands published between two looks at the tickets service's backlog
_SETTLE_SECONDS = 2.0


@dataclass(frozen=True)
class Shape:
    tickets: int = 1_000_000
    resellers: int = 40
    customers: int = 20_000
    subaccounts: int = 5_000
    provider_agents: int = 30


@dataclass(frozen=True)
class Requester:
    actor: Actor
    handlers: tuple[Actor, ...]  # who answers its tickets: staff of its parent, or the parent customer itself
    language: Language
    departments: bool  # its tickets go to the provider's departments


@dataclass(frozen=True)
class Provider:
    tenant: str
    layers: tuple[tuple[Record, ...], ...]
    requesters: tuple[Requester, ...]


_EN_SERVICES = ("VPS", "shared hosting", "mailbox", "domain", "database", "SSL certificate", "backup", "DNS zone")
_FR_SERVICES = (
    "VPS",
    "hébergement mutualisé",
    "boîte mail",
    "nom de domaine",
    "base de données",
    "certificat SSL",
    "sauvegarde",
    "zone DNS",
)
_EN_TROUBLES = (
    "is down",
    "is very slow",
    "returns error 500",
    "does not renew",
    "rejects my password",
    "is full",
    "stopped answering",
    "shows a warning",
    "cannot be reached from abroad",
)
_FR_TROUBLES = (
    "est en panne",
    "est très lent",
    "renvoie une erreur 500",
    "ne se renouvelle pas",
    "refuse mon mot de passe",
    "est plein",
    "ne répond plus",
    "affiche un avertissement",
    "est injoignable depuis l'étranger",
)
_EN_SENTENCES = (
    "Since this morning {service} {trouble}.",
    "Our customers at {domain} complain about it.",
    "The logs show {code} around {hour}.",
    "We did not change anything on our side.",
    "Could you please look into it quickly?",
    "It already happened last week and came back.",
    "The control panel says everything is fine, but it is not.",
    "I restarted the server twice without any change.",
)
_FR_SENTENCES = (
    "Depuis ce matin, {service} {trouble}.",
    "Nos clients sur {domain} s'en plaignent.",
    "Les journaux indiquent {code} vers {hour}.",
    "Nous n'avons rien modifié de notre côté.",
    "Pourriez-vous regarder rapidement, s'il vous plaît ?",
    "C'est déjà arrivé la semaine dernière et c'est revenu.",
    "Le panneau de contrôle dit que tout va bien, mais ce n'est pas le cas.",
    "J'ai redémarré le serveur deux fois sans aucun changement.",
)
_EN_ANSWERS = (
    "We restarted the service on {domain}; it answers again.",
    "The disk of the host was full; we freed space and moved your {service}.",
    "Your certificate is renewed; it may take an hour to show everywhere.",
    "Could you tell us the exact time and the address that fails?",
    "We raised the limits of your plan; tell us if it happens again.",
)
_FR_ANSWERS = (
    "Nous avons redémarré le service sur {domain} ; il répond de nouveau.",
    "Le disque de l'hôte était plein ; nous avons libéré de la place et déplacé votre {service}.",
    "Votre certificat est renouvelé ; il peut falloir une heure pour qu'il apparaisse partout.",
    "Pourriez-vous nous indiquer l'heure exacte et l'adresse qui échoue ?",
    "Nous avons relevé les limites de votre offre ; dites-nous si cela se reproduit.",
)
_NOTES = (
    "Host {host} again: third time this month, check the RAID.",
    "Customer on the legacy plan: do not offer the migration for free.",
    "Escalated to the network team, ticket {code}.",
    "Refund approved by billing for {domain}.",
)
_PRIORITIES = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)
_CODES = ("ERR_CONNECTION_RESET", "502 Bad Gateway", "SMTP 550", "ORA-12541", "ENOSPC", "SSL_ERROR_EXPIRED")


def provider_of(tenant: str, shape: Shape, *, seed: int) -> Provider:
    rng = random.Random(f"{seed}:{tenant}:tree")
    t = tenant
    provider = account_record(t, AccountKind.PROVIDER, None, "Scale Hosting", f"support@{t}.example")
    agents = [
        staff_record(f"{t}-agent-{n}", t, StaffRole.AGENT, f"Agent {n}", TECHNICAL_SUPPORT if n % 3 else BILLING)
        for n in range(shape.provider_agents)
    ]
    supervisor = staff_record(f"{t}-supervisor", t, StaffRole.SUPERVISOR, "Supervisor", TECHNICAL_SUPPORT, BILLING)
    provider_staff = (*agents, supervisor)
    resellers = tuple(
        account_record(f"{t}-reseller-{n}", AccountKind.RESELLER, t, f"Reseller {n}", f"help@reseller{n}.example")
        for n in range(shape.resellers)
    )
    reseller_staff = tuple(
        staff_record(f"{reseller.id}-agent-{n}", reseller.id, StaffRole.AGENT, f"{reseller.display_name} agent {n}")
        for reseller in resellers
        for n in range(2)
    )
    parents = [t, *(reseller.id for reseller in resellers)]
    customers = []
    for n in range(shape.customers):
        parent = t if n % 4 == 0 else parents[1 + n % max(1, len(resellers))] if resellers else t
        language = Language.FR if rng.random() < 0.3 else Language.EN
        customers.append(
            account_record(
                f"{t}-customer-{n}",
                AccountKind.CUSTOMER,
                parent,
                f"Customer {n}",
                f"owner{n}@customer{n}.example",
                (f"vps-{n}", f"VPS {n}"),
                language=language,
            )
        )
    subaccounts = tuple(
        account_record(
            f"{t}-sub-{n}",
            AccountKind.SUBACCOUNT,
            customers[n % len(customers)].id,
            f"Mailbox {n}",
            f"box{n}@customer{n % len(customers)}.example",
            language=customers[n % len(customers)].language,
        )
        for n in range(shape.subaccounts)
    )
    staff_by_org: dict[str, list[Actor]] = {}
    for member in (*provider_staff, *reseller_staff):
        if member.role is StaffRole.AGENT:
            staff_by_org.setdefault(member.organisation_id, []).append(_staff_actor(t, member))
    requesters = [
        Requester(
            _account_actor(t, customer, Role.CUSTOMER),
            tuple(staff_by_org[customer.parent_id or t]),
            customer.language,
            departments=customer.parent_id == t,
        )
        for customer in customers
    ]
    by_id = {customer.id: customer for customer in customers}
    requesters += [
        Requester(
            _account_actor(t, sub, Role.SUBACCOUNT),
            (_account_actor(t, by_id[sub.parent_id or ""], Role.CUSTOMER),),
            sub.language,
            departments=False,
        )
        for sub in subaccounts
    ]
    layers: tuple[tuple[Record, ...], ...] = (
        (provider,),
        (provider_configuration(t),),
        resellers,
        *_chunks(tuple(customers)),
        *_chunks(subaccounts),
        *_chunks((*provider_staff, *reseller_staff)),
    )
    return Provider(tenant=t, layers=layers, requesters=tuple(requesters))


def _chunks(records: Sequence[Record]) -> list[tuple[Record, ...]]:
    return [tuple(records[start : start + _PUT_AT_ONCE]) for start in range(0, len(records), _PUT_AT_ONCE)]


def _account_actor(tenant: str, record: AccountRecord, role: Role) -> Actor:
    return Actor(account_id=record.id, tenant=tenant, role=role, display_name=record.display_name, email=record.email)


def _staff_actor(tenant: str, record: StaffRecord) -> Actor:
    return Actor(
        account_id=record.id,
        tenant=tenant,
        role=Role.AGENT,
        display_name=record.display_name,
        email=record.email,
        organisation_id=record.organisation_id,
    )


def _text(rng: random.Random, templates: Sequence[str], french: bool, count: int) -> str:
    services = _FR_SERVICES if french else _EN_SERVICES
    troubles = _FR_TROUBLES if french else _EN_TROUBLES
    values = {
        "service": rng.choice(services),
        "trouble": rng.choice(troubles),
        "domain": f"{rng.choice(('shop', 'blog', 'mail', 'app', 'boutique', 'atelier'))}{rng.randrange(1000)}.example",
        "code": rng.choice(_CODES),
        "hour": f"{rng.randrange(24):02d}:{rng.randrange(60):02d}",
        "host": f"node-{rng.randrange(400)}",
    }
    return " ".join(template.format(**values) for template in rng.sample(templates, min(count, len(templates))))


def ticket_commands(provider: Provider, index: int, *, seed: int) -> list[CommandBase]:
    """The commands of ticket ``index``, in the order they are applied."""
    rng = random.Random(f"{seed}:{provider.tenant}:ticket:{index}")
    requester = provider.requesters[rng.randrange(len(provider.requesters))]
    french = requester.language is Language.FR
    handler = rng.choice(requester.handlers)
    prefix = f"gen-{seed}-{provider.tenant}-{index}"
    opening_id = f"{prefix}-open"
    ticket_id = ticket_id_for(opening_id)
    issued = now()

    def envelope(step: str, actor: Actor) -> dict[str, object]:
        return {"command_id": f"{prefix}-{step}", "ticket_id": ticket_id, "actor": actor, "issued_at": issued}

    services = _FR_SERVICES if french else _EN_SERVICES
    troubles = _FR_TROUBLES if french else _EN_TROUBLES
    commands: list[CommandBase] = [
        OpenTicket(
            **envelope("open", requester.actor) | {"command_id": opening_id},
            subject=f"{rng.choice(services).capitalize()} {rng.choice(troubles)}",
            body=_text(rng, _FR_SENTENCES if french else _EN_SENTENCES, french, rng.randint(2, 4)),
            priority=rng.choices(_PRIORITIES, weights=(3, 10, 3, 1))[0],
            department=(TECHNICAL_SUPPORT if rng.random() < 0.7 else BILLING) if requester.departments else None,
            channel=rng.choices((Channel.WEB, Channel.EMAIL, Channel.API), weights=(6, 3, 1))[0],
        )
    ]
    if handler.role is Role.AGENT and rng.random() < 0.6:
        assignee = Assignee(account_id=handler.account_id, display_name=handler.display_name, email=handler.email)
        commands.append(AssignTicket(**envelope("assign", handler), assignee=assignee))
    for turn in range(rng.choice((1, 1, 2, 2, 3, 4))):
        if handler.role is Role.AGENT and rng.random() < 0.15:
            note = _text(rng, _NOTES, False, 1)
            commands.append(PostReply(**envelope(f"note-{turn}", handler), body=note, visibility=Visibility.INTERNAL))
        answer = _text(rng, _FR_ANSWERS if french else _EN_ANSWERS, french, rng.randint(1, 2))
        commands.append(PostReply(**envelope(f"answer-{turn}", handler), body=answer))
        if rng.random() < 0.6:
            back = _text(rng, _FR_SENTENCES if french else _EN_SENTENCES, french, rng.randint(1, 2))
            commands.append(PostReply(**envelope(f"back-{turn}", requester.actor), body=back))
    ending = rng.random()
    if ending < 0.35:
        commands.append(ChangeStatus(**envelope("resolve", handler), status=Status.RESOLVED))
    elif ending < 0.65:
        commands.append(CloseTicket(**envelope("close", handler)))
    return commands


async def put_tree(directory: Directory, provider: Provider, *, report: Callable[[int, int], None]) -> None:
    """Put the provider's tree, layer after layer (a parent before its children)."""
    actor = Actor(account_id=provider.tenant, tenant=provider.tenant, role=Role.PROVIDER)
    total, done = sum(len(layer) for layer in provider.layers), 0
    for layer in provider.layers:
        await asyncio.gather(*(put_record(directory, record, actor=actor) for record in layer))
        done += len(layer)
        report(done, total)


async def publish_tickets(
    js: JetStreamContext,
    subjects: Subjects,
    provider: Provider,
    *,
    tickets: int,
    seed: int,
    window: int,
    report: Callable[[int], None],
) -> int:
    """Publish the commands of ``tickets`` tickets, keeping at most ``window`` waiting for the tickets service,
    and ``report`` the tickets whose commands are all published now and then; the number of commands published."""
    published = 0
    for index in range(tickets):
        for command in ticket_commands(provider, index, seed=seed):
            await js.publish_async(
                subjects.command(command), command.model_dump_json().encode(), headers={MSG_ID: command.command_id}
            )
            published += 1
            if published % _LOOK_EVERY == 0:
                await _within(js, subjects, window)
                report(index)
    await js.publish_async_completed()
    report(tickets)
    return published


async def _within(js: JetStreamContext, subjects: Subjects, window: int) -> None:
    """Wait while more than ``window`` commands wait for the tickets service."""
    while True:
        try:
            info = await js.consumer_info(subjects.commands_stream, TICKETS_CONSUMER)
        except NotFoundError:
            return  # the tickets service has not made its consumer yet: the stream keeps the commands
        if info.num_pending + (info.num_ack_pending or 0) <= window:
            return
        await asyncio.sleep(0.2)


async def until_applied(js: JetStreamContext, subjects: Subjects) -> None:
    """Once the tickets service has applied every command of the stream."""
    while True:
        info = await js.consumer_info(subjects.commands_stream, TICKETS_CONSUMER)
        if not info.num_pending and not info.num_ack_pending:
            return
        await asyncio.sleep(1.0)


def generate_command(
    context: typer.Context,
    tickets: int = typer.Option(1_000_000, min=1, help="Tickets to make (about six events each)."),
    resellers: int = typer.Option(40, min=0),
    customers: int = typer.Option(20_000, min=1),
    subaccounts: int = typer.Option(5_000, min=0),
    seed: int = typer.Option(1, help="The same seed makes the same provider and tickets: a run taken up again."),
    window: int = typer.Option(20_000, min=100, help="Commands at most waiting for the tickets service."),
    wait: bool = typer.Option(True, help="Wait until the tickets service has applied every command."),
) -> None:
    """Fill the tenant with a realistic provider: its tree of resellers, customers and subaccounts, its staff,
    and TICKETS tickets in English and French, through the commands stream and the event log."""
    session = session_of(context)
    connection = session.connection
    tenant = session.guarded(connection.required_tenant)
    shape = Shape(tickets=tickets, resellers=resellers, customers=customers, subaccounts=subaccounts)
    provider = provider_of(tenant, shape, seed=seed)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())

    async def work(directory: Directory) -> int:
        with RichProgress(*columns, console=session.console) as bar:
            tree = bar.add_task("accounts and staff", total=None)
            await put_tree(
                directory, provider, report=lambda done, total: bar.update(tree, completed=done, total=total)
            )
            await asyncio.sleep(_SETTLE_SECONDS)  # the tickets service's view of the directory takes the last in
            nc = await connect_nats(connection)
            try:
                js = nc.jetstream()
                sent = bar.add_task("tickets published", total=tickets)
                published = await publish_tickets(
                    js,
                    connection.subjects,
                    provider,
                    tickets=tickets,
                    seed=seed,
                    window=window,
                    report=lambda done: bar.update(sent, completed=done),
                )
                if wait:
                    applying = bar.add_task("applied by the tickets service", total=None)
                    await until_applied(js, connection.subjects)
                    bar.update(applying, completed=1, total=1)
            finally:
                await nc.close()
        return published

    published = session.run(work)
    session.console.print(f"{tenant}: {tickets} tickets, {published} commands published{' and applied' * wait}.")
