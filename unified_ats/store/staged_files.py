"""Files held for a vendor that fetches them by URL, for a short while."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from unified_ats.store.tables import StagedFile, utcnow


@dataclass(frozen=True)
class Staged:
    file_name: str
    content_type: str
    content: bytes


class StagedFiles:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def put(
        self,
        connection_id: uuid.UUID,
        *,
        file_name: str,
        content_type: str,
        content: bytes,
        expires_at: datetime,
    ) -> uuid.UUID:
        file_id = uuid.uuid4()
        async with self.sessions.begin() as session:
            # Expired files go as new ones come: the table never holds more than a window's.
            await session.execute(delete(StagedFile).where(StagedFile.expires_at <= utcnow()))
            session.add(
                StagedFile(
                    id=file_id,
                    connection_id=connection_id,
                    file_name=file_name,
                    content_type=content_type,
                    content=content,
                    expires_at=expires_at,
                )
            )
        return file_id

    async def get(self, file_id: uuid.UUID) -> Staged | None:
        async with self.sessions() as session:
            row = await session.get(StagedFile, file_id)
            if row is None or row.expires_at <= utcnow():
                return None
            return Staged(row.file_name, row.content_type, row.content)

    async def drop(self, file_id: uuid.UUID) -> None:
        async with self.sessions.begin() as session:
            await session.execute(delete(StagedFile).where(StagedFile.id == file_id))
