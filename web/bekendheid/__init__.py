"""The Bekendheidscheck page: is a person known to the ZVH, and whom to contact."""
