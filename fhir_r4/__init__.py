"""The FHIR R4 face at /fhir/r4: resources built from the domain functions (no SQL or rules of
its own), searches as Bundles, every error an OperationOutcome.

Named fhir_r4, not fhir: `fhir` is the namespace of the FHIR model library (fhir.resources)."""
