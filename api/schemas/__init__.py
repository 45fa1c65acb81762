"""Every request and response shape of ``/api/v1``, one module per resource (the OpenAPI
spec is generated from these).

Within v1 fields are only ever added, never renamed. Request schemas reject
unknown fields (marshmallow's default), so a typo is a 422, not a silent no-op.
Importers may keep writing ``from api.schemas import X``: every public shape is
re-exported here.
"""
from api.schemas.batches import (  # noqa: F401
    BatchCreatedSchema,
    BatchCreateSchema,
    BatchListArgsSchema,
    BatchListSchema,
    BatchSchema,
    CancelBodySchema,
    CancelResultSchema,
    IdempotencyHeaderSchema,
    OverridesSchema,
    RunRefSchema,
)
from api.schemas.common import (  # noqa: F401
    MAX_LIMIT,
    MAX_USER_REQUEST_CHARS,
    STATUS_VALUES,
    ErrorBodySchema,
    ErrorEnvelopeSchema,
    PageArgsSchema,
    StrictFloat,
    StrictSchema,
    list_schema,
)
from api.schemas.lab import (  # noqa: F401
    ExportArgsSchema,
    FeedbackProductInSchema,
    FeedbackProductSchema,
    FeedbackPutSchema,
    FeedbackSchema,
    PresetCreateSchema,
    PresetListSchema,
    PresetSchema,
    PresetUpdateSchema,
    ProductCreateSchema,
    ProductListSchema,
    ProductSchema,
    ProductUpdateSchema,
    StandardPresetSchema,
    StatusListArgsSchema,
)
from api.schemas.runs import (  # noqa: F401
    KnowledgeBaseStatusSchema,
    ModifierCheckSchema,
    ModifierChecksSchema,
    PlanRevisionSchema,
    ReasoningNodeSchema,
    ReasoningSchema,
    RecipeArgumentSchema,
    RunErrorSchema,
    RunListArgsSchema,
    RunListSchema,
    RunOutputSchema,
    RunSchema,
    StructureArgsSchema,
    SystemConfigSchema,
)
from api.schemas.system import (  # noqa: F401
    HealthSchema,
    QueueSchema,
    StartupSchema,
    VersionSchema,
    WorkerInfoSchema,
    WorkerStatusSchema,
)
from api.schemas.trace import (  # noqa: F401
    EventListArgsSchema,
    EventListSchema,
    EventSchema,
    EventStreamArgsSchema,
    EvidenceListArgsSchema,
    EvidenceListSchema,
    EvidenceSchema,
    LastEventIdHeaderSchema,
)
from api.schemas.memory import (  # noqa: F401
    DeltaDetailSchema,
    DeltaListArgsSchema,
    DeltaListSchema,
    DeltaSchema,
    LearnJobSchema,
    MemoryChangedSchema,
    MemoryCreateSchema,
    MemoryDetailSchema,
    MemoryItemSchema,
    MemoryListArgsSchema,
    MemoryListSchema,
    MemoryPatchSchema,
    RollbackResultSchema,
    RunMemorySchema,
)
