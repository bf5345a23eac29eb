"""Every identity-rule test of tests/domain, on SQLite and on PostgreSQL through the services
layer and the writer (the fixtures in this folder's conftest supply SqlWorlds)."""

from tests.domain.test_i1_identifiers import *  # noqa: F403
from tests.domain.test_i2_references import *  # noqa: F403
from tests.domain.test_i3_identify_target import *  # noqa: F403
from tests.domain.test_i4_attributes import *  # noqa: F403
from tests.domain.test_i5_identifier_changes import *  # noqa: F403
from tests.domain.test_i6_4_unmerge import *  # noqa: F403
from tests.domain.test_i6_merge import *  # noqa: F403
from tests.domain.test_i7_anonymous import *  # noqa: F403
from tests.domain.test_i8_events_devices import *  # noqa: F403
from tests.domain.test_i9_delete_suppress import *  # noqa: F403
from tests.domain.test_objects import *  # noqa: F403
