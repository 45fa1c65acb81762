"""Chemistry checked by chemistry libraries: structures with RDKit, names with OPSIN.

A recipe is accepted from its *structure* (the SMILES the agent gives), never
from a regex over its name: a trade name of a real carboxylic acid passes,
the BTB linker under any of its names fails. RDKit and OPSIN are imported
or started only when first needed, so loading this package costs nothing.
"""
