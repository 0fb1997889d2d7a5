#!/usr/bin/python3
"""A second, independent XMPP client for the end-to-end specs: slixmpp joins a Flux
room, types commands one by one and reports what it receives, one JSON object a line
on stdout. Exit 0 after leaving cleanly; any failure prints {"event": "error", ...}
and exits 1. Usage (see spec/e2e/slixmpp.spec.ts):

  slixmpp_player.py --jid u@localhost --password pw --host 127.0.0.1 --port 5222 \
      --room realm@game.localhost --nick Slix [--expect-private 1] look 'say hi' who
"""
import argparse
import asyncio
import json
import sys
from typing import Any, Awaitable, Callable, TypeVar

from slixmpp import JID, ClientXMPP
from slixmpp.stanza import Message, Presence
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

Stanza = Message | Presence
T = TypeVar("T")
STEP_S = 10.0  # bound on login, on the join and on each reply
OUT = sys.stdout
sys.stdout = sys.stderr  # slixmpp 1.8.3's join_muc_wait print()s; keep stdout pure JSON lines


def emit(event: str, **fields: Any) -> None:
    OUT.write(json.dumps({"event": event, **fields}) + "\n")
    OUT.flush()


class Player(ClientXMPP):
    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(args.jid, args.password)
        self.room = JID(args.room).bare
        self.nick: str = args.nick
        self.inbox: list[Stanza] = []  # every message and presence from the room, in order
        self.arrived = asyncio.Event()
        self.fatal: asyncio.Future[None] = self.loop.create_future()
        self.register_plugin("xep_0045")
        self.register_handler(Callback("room presence", MatchXPath("{jabber:client}presence"), self.on_presence))
        self.add_event_handler("message", self.on_message)  # messages with a body, any type
        self.add_event_handler("groupchat_subject", self.on_subject)
        for failure in ("failed_auth", "connection_failed", "stream_error"):
            self.add_event_handler(failure, lambda e, name=failure: self.fail(f"{name}: {e}"))

    def fail(self, reason: str) -> None:
        if not self.fatal.done():
            self.fatal.set_exception(RuntimeError(reason))

    def from_room(self, stanza: Stanza) -> bool:
        return stanza["from"].bare == self.room

    def keep(self, stanza: Stanza) -> None:
        self.inbox.append(stanza)
        self.arrived.set()

    def on_presence(self, pr: Presence) -> None:
        if not self.from_room(pr):
            return
        codes = sorted(pr["muc"]["status_codes"])
        emit("presence", **{"from": str(pr["from"]), "type": pr["type"], "codes": codes, "role": pr["muc"]["role"]})
        self.keep(pr)
        if pr["type"] == "error":  # fail at once rather than wait out join_muc_wait's timeout
            self.fail(f"presence error from {pr['from']}: {pr['error']['condition']}: {pr['error']['text']}")

    def on_subject(self, msg: Message) -> None:
        emit("subject", **{"from": str(msg["from"]), "subject": msg["subject"]})

    def on_message(self, msg: Message) -> None:
        if msg["type"] == "groupchat" and self.from_room(msg):
            history = {"delayed": True} if msg.xml.find("{urn:xmpp:delay}delay") is not None else {}
            emit("groupchat", **{"from": str(msg["from"]), "body": msg["body"], "id": msg["id"]}, **history)
            if history:
                return  # room history (XEP-0045 §7.2.15) is not a reply to anything
        elif msg["type"] == "chat" and self.from_room(msg):
            emit("private", **{"from": str(msg["from"]), "body": msg["body"]})
        else:
            emit("other", **{"from": str(msg["from"]), "type": msg["type"], "body": msg["body"]})
            return
        self.keep(msg)

    async def until(self, done: Callable[[], bool], what: str) -> None:
        """Returns once done() holds, checked again on every stanza from the room; at most STEP_S."""
        deadline = self.loop.time() + STEP_S
        while not done():
            self.arrived.clear()
            left = deadline - self.loop.time()
            if left <= 0:
                raise TimeoutError(f"no {what} within {STEP_S} s")
            waiter = asyncio.ensure_future(self.arrived.wait())
            await asyncio.wait([waiter, self.fatal], timeout=left, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if self.fatal.done():
                self.fatal.result()  # raises the failure

    async def guarded(self, step: Awaitable[T]) -> T:
        """Awaits step, or raises as soon as the connection, login or join fails."""
        task = asyncio.ensure_future(step)
        await asyncio.wait([task, self.fatal], return_when=asyncio.FIRST_COMPLETED)
        if self.fatal.done():
            task.cancel()
            self.fatal.result()
        return await task

    async def wait_for(self, pred: Callable[[Stanza], bool], since: int, what: str) -> None:
        """Until a stanza from the room at or after inbox[since] matches pred."""
        await self.until(lambda: any(pred(s) for s in self.inbox[since:]), what)

    def is_room_text(self, s: Stanza) -> bool:
        return s.name == "message" and s["type"] == "groupchat" and s["from"] == JID(self.room)

    async def play(self, host: str, port: int, commands: list[str], expect_private: int) -> None:
        # The private server is loopback plain TCP without STARTTLS; SCRAM over it is slixmpp's default.
        self.connect((host, port), force_starttls=False, disable_starttls=True)
        await self.guarded(self.wait_until("session_start", STEP_S))
        self.send_presence()
        emit("connected", jid=str(self.boundjid))
        start = len(self.inbox)
        await self.guarded(self.plugin["xep_0045"].join_muc_wait(JID(self.room), self.nick, maxstanzas=0, timeout=STEP_S))
        emit("joined", room=self.room, nick=self.nick)
        await self.wait_for(self.is_room_text, start, "description after the join")  # where we stand
        for i, command in enumerate(commands, 1):
            sent_id = f"slix-{i}"
            start = len(self.inbox)
            msg = self.make_message(mto=JID(self.room), mbody=command, mtype="groupchat")
            msg["id"] = sent_id
            msg.send()
            emit("sent", id=sent_id, body=command)
            # The answer comes from the room itself; a say or emote is answered by its echo (same id, new body).
            await self.wait_for(lambda s: self.is_room_text(s) or (
                s.name == "message" and s["id"] == sent_id and s["body"] != command), start, f"reply to {command!r}")
        def privates() -> int:
            return sum(1 for s in self.inbox if s.name == "message" and s["type"] == "chat")
        await self.until(lambda: privates() >= expect_private, f"{expect_private} private message(s)")
        start = len(self.inbox)
        self.plugin["xep_0045"].leave_muc(JID(self.room), self.nick)
        await self.wait_for(lambda s: s.name == "presence" and s["type"] == "unavailable"
                            and 110 in s["muc"]["status_codes"], start, "self-presence unavailable 110")
        emit("left", room=self.room)
        await self.disconnect(wait=STEP_S)
        emit("disconnected")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in ("jid", "password", "host", "room", "nick"):
        p.add_argument(f"--{name}", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--expect-private", type=int, default=0, help="wait for this many private messages before leaving")
    p.add_argument("commands", nargs="*", help="typed into the room one by one, each waiting for its reply")
    return p.parse_args()


if __name__ == "__main__":
    args = parse_args()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    player = Player(args)
    try:
        loop.run_until_complete(player.play(args.host, args.port, args.commands, args.expect_private))
    except Exception as err:  # report every failure the same way
        emit("error", kind=type(err).__name__, message=str(err) or repr(err))
        sys.exit(1)
