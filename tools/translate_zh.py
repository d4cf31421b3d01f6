"""Fill the zh-hans catalogue from the table below (a developer tool, run after
``manage.py makemessages -l zh_Hans``). Untranslated entries are listed."""

import sys
from pathlib import Path

import polib

ZH = {
    "Profile": "个人资料", "Accounts and departments": "账号与部门", "citizen": "群众",
    "grid worker": "网格员", "grid leader": "网格长", "specialist grid worker": "专业网格员",
    "volunteer": "志愿者", "governance center staff": "综治中心工作人员",
    "department staff": "部门工作人员", "mediator": "调解员", "expert": "专家",
    "leader": "领导", "system administrator": "系统管理员", "province": "省",
    "city": "市", "county": "县（区）", "town": "乡镇（街道）", "village": "村（社区）",
    "display name": "显示名称", "phone number": "手机号码", "user": "用户", "users": "用户",
    "public security": "公安", "urban management": "城市管理", "housing and construction": "住房和城乡建设",
    "ecology and environment": "生态环境", "emergency management": "应急管理",
    "market supervision": "市场监管", "transport": "交通运输", "civil affairs": "民政",
    "justice": "司法行政", "letters and visits": "信访", "human resources and social security": "人力资源和社会保障",
    "natural resources": "自然资源", "water resources": "水利", "agriculture and rural affairs": "农业农村",
    "health": "卫生健康", "education": "教育", "social governance center": "社会治理中心",
    "other": "其他", "name": "名称", "kind": "类别", "level": "层级", "region": "区划",
    "region code prefix": "区划代码前缀", "city code": "市代码", "department": "部门",
    "departments": "部门", "role": "角色", "grid": "网格", "scope prefix": "管辖范围代码",
    "active": "有效", "created at": "创建时间", "staff post": "岗位", "staff posts": "岗位",
    "Only staff with a post may use this endpoint.": "仅有在岗工作人员可以使用此接口。",
    "Your role may not do this.": "您的角色无权执行此操作。", "Kernel": "系统内核",
    "time": "时间", "actor": "操作人", "actor name": "操作人名称", "action": "操作",
    "object type": "对象类型", "object id": "对象编号", "region code": "区划代码",
    "source address": "来源地址", "changes": "变更内容", "audit record": "审计记录",
    "audit records": "审计记录", "ID number": "身份证号码", "address": "地址",
    "personal name": "姓名", "other personal data": "其他个人信息",
    "Invalid ID number (GB 11643 check digit).": "身份证号码无效（GB 11643 校验位不符）。",
    "boundary (GeoJSON geometry)": "边界（GeoJSON 几何）",
    "coordinate system of the GeoJSON": "GeoJSON 坐标系",
    "GCJ-02 (Amap, Tencent)": "GCJ-02（高德、腾讯）", "BD-09 (Baidu)": "BD-09（百度）",
    "Unreadable GeoJSON geometry: %(e)s": "无法读取的 GeoJSON 几何：%(e)s",
    "No such region in your scope.": "您的管辖范围内没有该区划。",
    "This region is outside your scope.": "该区划超出您的管辖范围。",
    "Coverage is checked for a town, county or city.": "覆盖检查仅适用于乡镇（街道）、县（区）或市。",
    "No such grid in your scope.": "您的管辖范围内没有该网格。",
    "File larger than 50 MB.": "文件超过 50 MB。",
    "Bad features; nothing was imported.": "存在错误要素，未导入任何数据。",
    "Longitude must be within ±180 and latitude within ±90.": "经度须在 ±180 之间，纬度须在 ±90 之间。",
    "The point is not inside any grid.": "该位置不在任何网格内。",
    "Regions and grids": "区划与网格", "urban": "城镇", "rural": "乡村", "mixed": "城乡结合",
    "code": "代码", "parent": "上级", "code prefix": "代码前缀", "resident population": "常住人口",
    "households": "户数", "urban/rural class": "城乡分类", "boundary": "边界",
    "boundary source": "边界来源", "data source": "数据来源", "regions": "区划",
    "grid code": "网格编码", "village/community": "村（社区）", "scope code": "范围代码",
    "boundary (WGS-84)": "边界（WGS-84）", "area (m²)": "面积（平方米）", "population": "人口",
    "origin id": "来源编号", "updated at": "更新时间", "grids": "网格",
    "grid index version": "网格索引版本", "grid index versions": "网格索引版本",
    "Simplified Chinese": "简体中文", "English": "英文", "Pages": "页面",
    "CivicGrid": "市域社会治理平台", "CivicGrid · city social governance": "市域社会治理平台",
    "Administration": "后台管理", "Sign in": "登录",
    "%(r)s regions, %(v)s villages and communities, %(g)s grids.": "共 %(r)s 个区划、%(v)s 个村（社区）、%(g)s 个网格。",
    "API documentation": "接口文档",
    "CivicGrid administration": "市域社会治理平台 · 后台管理",
    "Grid map: drag the corners to change the boundary": "网格地图：拖动顶点修改边界",
    "Drag the corners to change the boundary, or paste GeoJSON below. Neighbouring grids are shown in grey.": "拖动顶点修改边界，或在下方粘贴 GeoJSON。灰色为相邻网格。", "Locate a point (example: Zhangdian)": "位置定位（示例：张店）",
    # Coverage check on the admin map.
    "Coverage check on the map": "在地图上检查覆盖", "Grid coverage of %(name)s": "%(name)s 网格覆盖检查",
    "Coverage check": "覆盖检查",
    "%(n)s grids; %(gaps)s gaps, %(overlaps)s overlaps, %(outside)s pieces outside the boundary.": "共 %(n)s 个网格；缝隙 %(gaps)s 处，重叠 %(overlaps)s 处，超出边界 %(outside)s 处。",
    "The grids cover the region without gaps or overlaps.": "网格全覆盖本区域，无缝隙、无重叠。",
    "No boundary on record: only holes enclosed by the grids are found.": "暂无区划边界：只能发现网格围合出的空洞。",
    "gap": "缝隙", "overlap": "重叠", "outside the boundary": "超出边界",
    "Map of the grids with their gaps and overlaps": "网格及其缝隙、重叠地图", "location": "位置",
}

if __name__ == "__main__":
    path = Path(__file__).resolve().parent.parent / "civicgrid/locale/zh_Hans/LC_MESSAGES/django.po"
    po = polib.pofile(str(path))
    po.metadata["Language"] = "zh_Hans"
    po.metadata["Content-Type"] = "text/plain; charset=UTF-8"
    po.metadata["Plural-Forms"] = "nplurals=1; plural=0;"
    missing = []
    for entry in po:
        if entry.msgid in ZH:
            entry.msgstr = ZH[entry.msgid]
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
        elif not entry.msgstr:
            missing.append(entry.msgid)
    po.save()
    for m in missing:
        print("untranslated:", m)
    sys.exit(1 if missing else 0)
