"""The casusoverleg tables (registered on `Base.metadata` by `engine.models`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, UTCDateTime

_Json = JSON().with_variant(JSONB(), "postgresql")


class OverlegType(Base):
    """A kind of consultation: who owns and chairs it, who is invited by default, how often it meets, until when a
    case can be put on its agenda, and which process steps feed it."""

    __tablename__ = "overleg_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    #: the organisation that directs it (`engine.privacy.organisations.ORGANISATIONS`): the ZVH or a partner
    organisation: Mapped[str] = mapped_column(String(64))
    #: the role that chairs it (holders of it in the owning organisation plan and run its meetings)
    chair_role: Mapped[str] = mapped_column(String(64))
    #: ISO weekday (1 = Monday) of its regular meeting; None: only planned by hand
    weekday: Mapped[int | None] = mapped_column(Integer)
    #: local start time, HH:MM
    start_time: Mapped[str] = mapped_column(String(5), default="10:00")
    duration_minutes: Mapped[int] = mapped_column(Integer, default=90)
    #: meets every N weeks, counted from `anchor` (a date of a meeting)
    interval_weeks: Mapped[int] = mapped_column(Integer, default=1)
    anchor: Mapped[date | None] = mapped_column(Date)
    #: a case reaches the agenda when its step waits before this many working days before the meeting, at this time
    cutoff_working_days: Mapped[int] = mapped_column(Integer, default=1)
    cutoff_time: Mapped[str] = mapped_column(String(5), default="12:00")
    #: process steps whose waiting cases fill the agenda: ["aanmelding_triage:Task_triage", ...]
    feeds: Mapped[list[str]] = mapped_column(_Json, default=list)
    #: administrative support by the ZVH's secretariaat, hours a week (the annual report's "faciliteiten")
    secretariaat_hours: Mapped[float | None] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(64))


class OverlegTypeMember(Base):
    """A default member of an overleg type: invited to each meeting (each case still needs its own invitation)."""

    __tablename__ = "overleg_type_members"

    type_id: Mapped[int] = mapped_column(ForeignKey("overleg_types.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)


class Meeting(Base):
    """One meeting of an overleg type: planned, held, closed (then its besluitenlijst is final)."""

    __tablename__ = "overleg_meetings"
    __table_args__ = (UniqueConstraint("type_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("overleg_types.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    #: gepland | gehouden | gesloten
    status: Mapped[str] = mapped_column(String(16), default="gepland")
    by_hand: Mapped[bool] = mapped_column(Boolean, default=False)
    planned_by: Mapped[str] = mapped_column(String(64))
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(64))


class MeetingMember(Base):
    """Who takes part in a meeting: the chair (`voorzitter`), the secretariaat, and members (`lid`). Attendance is
    recorded per case (`AgendaItem.attendance`): a member is there for the cases they are invited for."""

    __tablename__ = "overleg_meeting_members"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("overleg_meetings.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16), default="lid")


class AgendaItem(Base):
    """A case on a meeting's agenda: because its process waits at a step this overleg decides (`wachtend`), put on
    by hand with a reason (`handmatig`), or carried forward for its open action points (`actiepunten`)."""

    __tablename__ = "overleg_items"
    __table_args__ = (UniqueConstraint("meeting_id", "instance_id"), Index("ix_overleg_items_task", "task_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("overleg_meetings.id", ondelete="CASCADE"), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"), index=True)
    source: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    #: the waiting human task this meeting decides (its id stays after completion, to show it was decided here)
    task_id: Mapped[str | None] = mapped_column(String(36))
    step_name: Mapped[str | None] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(Integer)
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: the decisions as the meeting words them (free text)
    decision: Mapped[str | None] = mapped_column(Text)
    #: per user id (as text): present or not, for this case
    attendance: Mapped[dict[str, Any]] = mapped_column(_Json, default=dict)
    #: when the structured outcome completed the waiting step, and who recorded it
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome_by: Mapped[str | None] = mapped_column(String(64))
    #: bumped by every change: an edit based on an older version is refused (a stale edit is shown, not overwritten)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(64))


class ItemInvite(Base):
    """A member invited for one agenda item: only they see that case on the agenda, in the besluitenlijst and in the
    invitation (need-to-know); the invitation also lets them open the case (a participant, reason `casusoverleg`)."""

    __tablename__ = "overleg_item_invites"

    item_id: Mapped[int] = mapped_column(ForeignKey("overleg_items.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    invited_by: Mapped[str] = mapped_column(String(64))
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ActionPoint(Base):
    """An action point of a case agreed in a meeting: what, which organisation (and person) owns it, by when."""

    __tablename__ = "overleg_action_points"
    __table_args__ = (Index("ix_overleg_action_points_open", "status", "deadline"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("overleg_items.id", ondelete="CASCADE"), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instances.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    owner_organisation: Mapped[str] = mapped_column(String(64))
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    deadline: Mapped[date] = mapped_column(Date)
    #: open | gereed
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by: Mapped[str | None] = mapped_column(String(64))
    done_note: Mapped[str | None] = mapped_column(Text)
