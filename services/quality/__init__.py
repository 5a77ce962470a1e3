"""Medical quality (医疗质量一体化): the community's prescription review centre (审方中心)."""
