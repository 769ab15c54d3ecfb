# The reconciliation models arrive with the domain issue (#3); see ../shared/DESIGN.md.
