"""The worker: processes stored deliveries and dispatches the effects their decisions left.

Processing a delivery is one database transaction with no network call in it: the subscribers
decide, their writes to Saleor are stored as effects, and the delivery is marked processed, all in
one commit. A worker killed midway loses the transaction and nothing else; the delivery is simply
taken again. Dispatching is the only part that talks to Saleor, and it holds no transaction while
it does: claim (commit), call, record the outcome (commit). A dispatcher killed mid-call leaves the
effect claimed until its lease ends; then it is sent again, and ``deliver`` makes sure the second
attempt adds nothing the first one already added.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.repositories.pipeline import Delivery, EffectsOfBatch, SqlDeliveryQueue, SqlEffectOutbox
from app.db.repositories.settings import SqlSettingsStore
from app.db.wakeups import DeliveryWakeups
from app.domain.ids import SaleorApiUrl
from app.domain.pipeline import RetryPolicy
from app.errors import (
    SaleorMutationError,
    SaleorUnauthorizedError,
    SaleorUnavailableError,
)
from app.integrations.partners import PartnerRefused, PartnerUnavailable, post_hand_off
from app.pipeline import support
from app.pipeline.housekeeping import HOUSEKEEPING_INTERVAL, housekeeping
from app.pipeline.processing import BatchReads, BatchStart, BatchStarting, Processing, Subscription
from app.services.pipeline import Effect, EffectKind, Outbox, deliver
from app.services.ports import SaleorGateway
from app.services.routing.purchase_orders import deliver_purchase_order, deliver_purchase_order_cancel
from app.services.support.mail import SupportMailSettings, deliver_mail, mail_settings
from app.webhooks.payloads import OrderEventPayload

if TYPE_CHECKING:
    from app.runtime import Runtime

log = logging.getLogger(__name__)
# Effects delivered to someone other than Saleor, each by a call of its own.
_ELSEWHERE = frozenset(
    (
        EffectKind.SUPPORT_REPLY,
        EffectKind.SUPPORT_NOTICE,
        EffectKind.HAND_OFF,
        EffectKind.CANCEL_HAND_OFF,
        EffectKind.PURCHASE_ORDER,
        EffectKind.CANCEL_PURCHASE_ORDER,
    )
)
# How many polls' time a processing loop other than the first waits, when not woken, before it looks.
_IDLE_POLLS = 20


class Worker:
    """Deliveries and effects of every store, taken by ``concurrency`` loops, each up to ``batch``
    deliveries at a time.

    ``run`` loops until stopped; ``drain`` does everything that is due now and returns (the demo
    and the tests use it to see a delivery's whole outcome).
    """

    def __init__(
        self,
        runtime: Runtime,
        subscriptions: Iterable[Subscription],
        *,
        concurrency: int,
        batch: int = 1,
        poll_seconds: float = 0.05,
        lease: timedelta = timedelta(seconds=60),
        policy: RetryPolicy | None = None,
    ) -> None:
        self._runtime = runtime
        self._subscriptions = tuple(subscriptions)
        self._subscribers: dict[str, list[Subscription]] = defaultdict(list)
        starts: dict[BatchStart, None] = {}
        for subscription in self._subscriptions:
            for event in subscription.events:
                self._subscribers[event].append(subscription)
            if subscription.starting_a_batch is not None:
                starts[subscription.starting_a_batch] = None
        self._batch_starts = tuple(starts)
        self._concurrency = concurrency
        self._batch = batch
        self._one_at_a_time = 0  # deliveries of a failed batch still to be taken singly
        self._poll_seconds = poll_seconds
        self._lease = lease
        self._policy = policy or RetryPolicy()
        # One per processing loop: in-process wake-ups set them all, another process's delivery one.
        self._deliveries_waiting = [asyncio.Event() for _ in range(concurrency)]
        self._working: set[int] = set()  # the processing loops in a step now
        # On PostgreSQL, deliveries stored by other processes (the web processes) are heard of at once.
        self.wakeups = (
            DeliveryWakeups(runtime.settings.database_url, self.wake_one)
            if runtime.engine.dialect.name == "postgresql"
            else None
        )
        self._effects_waiting = asyncio.Event()
        self._sending = 0  # effects claimed by this worker and not yet recorded as sent or failed
        self._nothing_sending = asyncio.Event()
        # One step at a time when one is all the database takes (SQLite has no row locks to share
        # work with): ``drain`` and the loops then take turns instead of claiming the same row.
        self._turn: contextlib.AbstractAsyncContextManager[object] = (
            asyncio.Lock() if concurrency == 1 else contextlib.nullcontext()
        )

    def wake(self) -> None:
        """Something was stored or made due (in this process): look now rather than at the next poll."""
        self._wake_processing_loops()
        self._effects_waiting.set()

    def wake_one(self) -> None:
        """Deliveries were stored by another process: one processing loop looks. A loop working now
        looks again after its step (its claim may have come before the delivery's commit); otherwise
        the first, idle, is woken. The others would only claim nothing, or one delivery each."""
        self._deliveries_waiting[min(self._working, default=0)].set()

    def _wake_processing_loops(self) -> None:
        for waiting in self._deliveries_waiting:
            waiting.set()

    # Processing

    async def process_next(self, lane: int = 0) -> bool:
        """Process one due delivery; False when none is due. Loops side by side each have a ``lane``."""
        async with self._turn:
            return await self._process_next(lane)

    async def process_due(self, lane: int = 0) -> int:
        """Process up to a batch of due deliveries, of different orders, in one transaction; how many.

        They share the transaction's claim, commit and reads. Should one of them fail, the whole batch
        rolls back (nothing of it is kept) and its deliveries are taken one at a time, each in a
        transaction of its own, until as many have been taken: the one that fails is found and
        counted alone, and the others go through.
        """
        async with self._turn:
            if self._one_at_a_time > 0 or self._batch == 1:
                self._one_at_a_time = max(0, self._one_at_a_time - 1)
                return int(await self._process_next(lane))
            return await self._process_batch()

    async def _process_batch(self) -> int:
        runtime = self._runtime
        now = runtime.clock.now()
        deliveries: list[Delivery] = []
        try:
            async with runtime.sessions() as session, session.begin():
                queue = SqlDeliveryQueue(session)
                deliveries = await queue.claim_batch(now, limit=self._batch)
                if not deliveries:
                    return 0
                # Parsed up front: the batch's reads look at every order's lines (a body that does not
                # parse fails the batch, and then only its own delivery).
                parsed = [
                    (delivery, OrderEventPayload.model_validate_json(delivery.payload)) for delivery in deliveries
                ]
                reads = BatchReads(parsed)
                starting = BatchStarting(session, runtime.engine, reads, parsed, now)
                for start in self._batch_starts:
                    await start(starting)
                effects = EffectsOfBatch(session)
                processings = [
                    processing
                    for delivery, payload in parsed
                    if (processing := await self._processing(session, effects, delivery, now, reads, payload))
                ]
                # One capability at a time over the whole batch (its orders are different orders): what
                # a capability reads of an earlier one's decisions, it then reads for all of them at once.
                for subscription in self._subscriptions:
                    for processing in processings:
                        if processing.delivery.event in subscription.events:
                            await subscription.handle(processing)
                    reads.next_capability()
                await effects.store()
                await queue.all_processed([delivery.id for delivery in deliveries], now)
        except Exception:
            if not deliveries:
                raise
            log.warning(
                "a batch of deliveries was not processed; taking them one at a time",
                exc_info=True,
                extra={"deliveries": len(deliveries)},
            )
            self._one_at_a_time = len(deliveries)
            return len(deliveries)
        self._effects_waiting.set()
        if len(deliveries) == self._batch:
            self._wake_processing_loops()  # likely more: the loops waiting look too
        return len(deliveries)

    async def _process_next(self, lane: int) -> bool:
        runtime = self._runtime
        now = runtime.clock.now()
        delivery: Delivery | None = None
        try:
            async with runtime.sessions() as session, session.begin():
                queue = SqlDeliveryQueue(session)
                delivery = await queue.claim(now, lane=lane)
                if delivery is None:
                    return False
                effects = EffectsOfBatch(session)
                processing = await self._processing(session, effects, delivery, now)
                if processing is not None:
                    for subscription in self._subscribers.get(delivery.event, ()):
                        await subscription.handle(processing)
                await effects.store()
                await queue.processed(delivery.id, now)
        except Exception as exc:
            if delivery is None:
                raise
            # A body that does not parse will not parse later: failing it at once lets the order's
            # later deliveries go on (each carries the whole order).
            retry_at = (
                None
                if isinstance(exc, ValidationError)
                else self._policy.next_attempt(
                    attempts=delivery.attempts + 1, first_attempt_at=delivery.retry_window_start, now=now
                )
            )
            log.exception(
                "delivery not processed",
                extra={
                    "saleor_api_url": delivery.saleor_api_url,
                    "event": delivery.event,
                    "order_id": delivery.order_id,
                    "attempts": delivery.attempts + 1,
                    "retry_at": retry_at.isoformat() if retry_at else None,
                },
            )
            async with runtime.sessions.begin() as session:
                await SqlDeliveryQueue(session).failed_attempt(delivery.id, _describe(exc), retry_at=retry_at)
            return True
        self._effects_waiting.set()
        return True

    async def _processing(
        self,
        session: AsyncSession,
        effects: EffectsOfBatch,
        delivery: Delivery,
        now: datetime,
        reads: BatchReads | None = None,
        payload: OrderEventPayload | None = None,
    ) -> Processing | None:
        """What the capabilities get to process ``delivery``; None when its store has gone."""
        installation = await self._runtime.installations.get(delivery.saleor_api_url, session)
        if installation is None:
            return None  # the store's rows go with it; nothing is left to decide for it
        return Processing(
            delivery=delivery,
            payload=payload or OrderEventPayload.model_validate_json(delivery.payload),
            installation=installation,
            session=session,
            saleor=Outbox(effects, delivery.saleor_api_url, f"delivery:{delivery.id}", now),
            now=now,
            live_quotes=self._runtime.live_quotes,
            reads=reads or BatchReads(),
            routing_sources=self._runtime.routing_sources(session),
        )

    # Dispatching

    async def dispatch_due(self) -> int:
        """Claim the effects due now (one per order), deliver them side by side, and record what came of
        them all in one transaction; how many.

        Killed before that record, the round's effects are claimed again when their lease ends, and
        ``deliver`` adds nothing that the first attempt already added.
        """
        runtime = self._runtime
        async with self._turn, runtime.sessions.begin() as session:
            effects = await SqlEffectOutbox(session).claim(
                runtime.clock.now(), lease=self._lease, limit=self._concurrency * 4
            )
            self._sending += len(effects)
            # Each store's installation once per round (not once per effect, all at once on a miss).
            installations = {
                url: await runtime.installations.get(url, session) for url in {e.saleor_api_url for e in effects}
            }
        if not effects:
            return 0
        # A few calls in flight, not the whole round: the connection pool's bookkeeping grows with the
        # square of the connections open, so a round of many goes through a few connections in turn.
        # Each store's Saleor writes of the round share requests (``BatchingGraphQLClient``): as many
        # as may be in flight, each carrying a share of the round, so a slow Saleor has as many at once.
        at_once = max(self._concurrency, 4)
        in_flight = asyncio.Semaphore(at_once)
        gateways: dict[SaleorApiUrl, SaleorGateway] = {
            url: runtime.saleor.batching_gateway(
                url, installation.token, in_flight=in_flight, at_once=at_once, max_attempts=1
            )
            for url, installation in installations.items()
            if installation is not None and not installation.is_revoked
        }
        try:
            failures = [
                failure
                for failure in await asyncio.gather(
                    *(self._deliver(effect, gateways.get(effect.saleor_api_url), in_flight) for effect in effects)
                )
                if failure
            ]
            failed = {failure.effect.id for failure in failures}
            async with runtime.sessions.begin() as session:
                outbox = SqlEffectOutbox(session)
                await outbox.delivered([e for e in effects if e.id not in failed], runtime.clock.now())
                for failure in failures:
                    await outbox.failed_attempt(failure.effect, failure.error, retry_at=failure.retry_at)
                    installation = installations[failure.effect.saleor_api_url]
                    if failure.retry_at is None and installation is not None and not installation.is_revoked:
                        await support.effect_gave_up(session, failure.effect, failure.error, runtime.clock.now())
        finally:
            self._sending -= len(effects)
            if not self._sending:
                self._nothing_sending.set()
        return len(effects)

    async def _deliver(
        self, effect: Effect, saleor: SaleorGateway | None, in_flight: asyncio.Semaphore
    ) -> _Failure | None:
        """Deliver one effect; what went wrong, or None when it arrived. ``saleor``: its store's gateway of
        the round, None when the app is no longer installed there."""
        retry_after: timedelta | None = None
        try:
            if saleor is None:
                raise SaleorUnauthorizedError("the app is no longer installed in this store", operation=effect.kind)
            if effect.kind in _ELSEWHERE:
                async with in_flight:  # one call each, taking a place as a request to Saleor does
                    outcome = await self._deliver_elsewhere(effect)
            else:
                outcome = await deliver(effect, saleor)
        except (SaleorUnauthorizedError, SaleorMutationError, PartnerRefused) as exc:
            # Waiting will not change Saleor's answer: a person must look (and may retry).
            return self._failure(effect, exc, retry=False)
        except (SaleorUnavailableError, PartnerUnavailable) as exc:
            if exc.retry_after is not None:
                retry_after = timedelta(seconds=exc.retry_after)
            return self._failure(effect, exc, retry=True, retry_after=retry_after)
        except Exception as exc:  # a timeout, a GraphQL error, a bug: tried again later
            return self._failure(effect, exc, retry=True)
        log.info(
            "effect delivered",
            extra={
                "saleor_api_url": effect.saleor_api_url,
                "order_id": effect.order_id,
                "kind": effect.kind,
                "outcome": outcome,
                "attempts": effect.attempts,
            },
        )
        return None

    async def _deliver_elsewhere(self, effect: Effect) -> str:
        """A support e-mail, a partner's hand-off or purchase order (or its cancel): not Saleor's."""
        if effect.kind in (EffectKind.SUPPORT_REPLY, EffectKind.SUPPORT_NOTICE):
            return await self._send_mail(effect)
        if effect.kind in (EffectKind.HAND_OFF, EffectKind.CANCEL_HAND_OFF):
            return await self._hand_off(effect)
        if effect.kind == EffectKind.PURCHASE_ORDER:
            return await self._send_purchase_order(effect)
        return await self._cancel_purchase_order(effect)

    async def _mail_settings(self, effect: Effect) -> SupportMailSettings | None:
        """The store's SMTP server as set now, read on a session closed before the mail server is called."""
        async with self._runtime.sessions() as session:
            return await mail_settings(SqlSettingsStore(session), effect.saleor_api_url)

    async def _send_mail(self, effect: Effect) -> str:
        """A support e-mail (a reply, or an assignee's notice), through the store's SMTP server."""
        runtime = self._runtime
        configured = await self._mail_settings(effect)
        return await deliver_mail(effect.payload, configured, sender=runtime.mail_sender, cipher=runtime.cipher)

    async def _send_purchase_order(self, effect: Effect) -> str:
        """A purchase order e-mailed to its partner, through the store's SMTP server."""
        runtime = self._runtime
        return await deliver_purchase_order(
            effect.payload,
            await self._mail_settings(effect),
            public_url=runtime.settings.public_url,
            sender=runtime.mail_sender,
            cipher=runtime.cipher,
        )

    async def _cancel_purchase_order(self, effect: Effect) -> str:
        """A purchase order's cancel e-mailed to its partner, through the store's SMTP server."""
        runtime = self._runtime
        return await deliver_purchase_order_cancel(
            effect.payload, await self._mail_settings(effect), sender=runtime.mail_sender, cipher=runtime.cipher
        )

    async def _hand_off(self, effect: Effect) -> str:
        """Post a hand-off, or its cancel, to its partner, signed with the partner's secret as it is now."""
        runtime = self._runtime
        partner = str(effect.payload["partner"])
        async with runtime.sessions() as session:
            secret = await runtime.routing_sources(session).partner_secret(effect.saleor_api_url, partner)
        if secret is None:
            raise PartnerRefused(f"partner {partner} is no longer set up")
        return await post_hand_off(
            runtime.http,
            str(effect.payload["endpoint"]),
            effect.payload["body"],
            secret,
            runtime.clock.now(),
            timeout_seconds=runtime.settings.saleor_timeout_seconds,
        )

    def _failure(
        self, effect: Effect, exc: Exception, *, retry: bool, retry_after: timedelta | None = None
    ) -> _Failure:
        now = self._runtime.clock.now()
        retry_at = (
            self._policy.next_attempt(
                attempts=effect.attempts, first_attempt_at=effect.retry_window_start, now=now, retry_after=retry_after
            )
            if retry
            else None
        )
        log.warning(
            "effect not delivered",
            extra={
                "saleor_api_url": effect.saleor_api_url,
                "order_id": effect.order_id,
                "kind": effect.kind,
                "attempts": effect.attempts,
                "reason": _describe(exc),
                "retry_at": retry_at.isoformat() if retry_at else None,
            },
        )
        return _Failure(effect, _describe(exc), retry_at)

    # Loops

    async def drain(self) -> None:
        """Process every due delivery and deliver every due effect, until nothing is due."""
        while True:
            processed = 0
            while taken := await self.process_due():
                processed += taken
            if processed or await self.dispatch_due():
                continue
            if not self._sending:
                return
            # The loops are sending effects this drain did not claim: what they cause is due too.
            self._nothing_sending.clear()
            await self._nothing_sending.wait()

    async def run(self, stop: asyncio.Event) -> None:
        """Process and dispatch until ``stop`` is set; errors are logged and the loops go on."""
        # One processing loop polls; the others look when woken (a delivery stored in this process, or
        # a batch that came back full, so more is due), and otherwise only every ``_IDLE_POLLS`` polls:
        # an idle claim is a transaction, and sixteen loops polling would make hundreds a second. On
        # PostgreSQL a delivery another process stored (a web process) wakes one of them (``wake_one``).
        loops = [
            self._loop(
                functools.partial(self._processing_step, lane),
                self._deliveries_waiting[lane],
                stop,
                poll_seconds=self._poll_seconds * (1 if lane == 0 else _IDLE_POLLS),
            )
            for lane in range(self._concurrency)
        ]
        loops.append(self._loop(self.dispatch_due, self._effects_waiting, stop, poll_seconds=self._poll_seconds))
        loops.append(self._housekeeping(stop))
        loops.append(self._wake_when_stopped(stop))
        if self.wakeups is not None:
            loops.append(self.wakeups.run(stop))
        await asyncio.gather(*loops)

    async def _processing_step(self, lane: int) -> int:
        self._working.add(lane)
        try:
            return await self.process_due(lane)
        finally:
            self._working.discard(lane)

    async def _wake_when_stopped(self, stop: asyncio.Event) -> None:
        """Loops waiting to be woken see ``stop`` at once, not at their next look."""
        await stop.wait()
        self.wake()

    async def _housekeeping(self, stop: asyncio.Event) -> None:
        """Retention and the end of grace periods, every ``HOUSEKEEPING_INTERVAL`` (from the start)."""
        while not stop.is_set():
            async with self._turn:
                try:
                    await housekeeping(self._runtime, self._runtime.clock.now())
                except Exception:  # the database, most likely; the next round tries again
                    log.exception("housekeeping failed; trying again at the next interval")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=HOUSEKEEPING_INTERVAL.total_seconds())

    async def _loop(
        self,
        step: Callable[[], Awaitable[bool | int]],
        waiting: asyncio.Event,
        stop: asyncio.Event,
        *,
        poll_seconds: float,
    ) -> None:
        while not stop.is_set():
            # Cleared before the step, not after: a wake-up during it may be for something stored after
            # its claim, and is kept so that the loop looks again.
            waiting.clear()
            try:
                if await step():
                    continue
            except Exception:
                # The database itself, most likely: wait a second rather than a poll, or the log floods.
                log.exception("pipeline step failed; trying again in a second")
                await asyncio.sleep(1)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiting.wait(), timeout=poll_seconds)


@dataclass(frozen=True, slots=True)
class _Failure:
    """An effect that did not arrive: why, and when to try again (None: failed for good)."""

    effect: Effect
    error: str
    retry_at: datetime | None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
