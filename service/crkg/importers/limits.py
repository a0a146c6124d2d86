"""The importer's safety limits, stated once (REFI-QDA archives are zip files of XML).

A real coded project is a few megabytes of XML and transcripts, and at most some hundred
megabytes with media; the limits leave room for that and refuse what only an attack needs.
"""

from __future__ import annotations

#: Total uncompressed bytes of all members of one archive.
MAX_UNCOMPRESSED_BYTES = 2 * 1024**3
#: Uncompressed size of one member.
MAX_MEMBER_BYTES = 1024**3
#: Uncompressed / compressed size of one member; text compresses ~3-10x, a zip bomb 1000x+.
MAX_COMPRESSION_RATIO = 200
#: Below this size a member's ratio is not checked (tiny files compress oddly).
RATIO_CHECK_MIN_BYTES = 1024 * 1024
#: Members of one archive.
MAX_MEMBERS = 100_000
#: Size of the project XML (project.qde) and of any text source read into memory.
MAX_XML_BYTES = 512 * 1024**2
MAX_TEXT_BYTES = 256 * 1024**2
#: Depth of XML element nesting (codes nest; nothing real nests this deep).
MAX_XML_DEPTH = 256
#: Project XML larger than this is not checked against the REFI-QDA schema on import (the
#: check only warns, and the pure-Python validator takes about 1 s per 3 MB).
MAX_VALIDATE_BYTES = 32 * 1024**2
