// Package demo generates the demo city that `hotline demo` runs on: 江城市,
// an invented prefecture-level city with its departments, districts,
// streets and utilities, a category tree, a dispatch catalogue, users for
// every role, and about two thousand work orders over the last 90 days
// driven through the real lifecycle. All text is produced by our own
// templates; nothing is copied from real data.
package demo

import "github.com/hotline12345/hotline/ticket"

// unitSpec is a unit with its children.
type unitSpec struct {
	code, name, kind string
	children         []unitSpec
}

var departments = []unitSpec{
	{code: "zjj", name: "市住房和城乡建设局", kind: "department"},
	{code: "sthj", name: "市生态环境局", kind: "department"},
	{code: "jtj", name: "市交通运输局", kind: "department"},
	{code: "jyj", name: "市教育局", kind: "department"},
	{code: "rsj", name: "市人力资源和社会保障局", kind: "department"},
	{code: "scj", name: "市市场监督管理局", kind: "department"},
	{code: "wjw", name: "市卫生健康委员会", kind: "department"},
	{code: "cgj", name: "市城市管理局", kind: "department"},
	{code: "gaj", name: "市公安局（非紧急警务）", kind: "department"},
	{code: "zrzy", name: "市自然资源和规划局", kind: "department"},
	{code: "swj", name: "市水务局", kind: "department"},
	{code: "mzj", name: "市民政局", kind: "department"},
	{code: "wlj", name: "市文化广电旅游局", kind: "department"},
	{code: "swuj", name: "市商务局", kind: "department"},
	{code: "ybj", name: "市医疗保障局", kind: "department"},
	{code: "gjj", name: "市住房公积金管理中心", kind: "department"},
}

var utilities = []unitSpec{
	{code: "water", name: "江城水务集团供水公司", kind: "utility"},
	{code: "power", name: "国网江城供电公司", kind: "utility"},
	{code: "gas", name: "江城燃气公司", kind: "utility"},
	{code: "bus", name: "江城公交集团", kind: "utility"},
}

var districts = []unitSpec{
	{code: "jb", name: "江北区", kind: "district", children: []unitSpec{
		{code: "jb-bj", name: "滨江街道", kind: "street", children: []unitSpec{
			{code: "jb-bj-xfl", name: "幸福里社区", kind: "community"}, {code: "jb-bj-wh", name: "望湖社区", kind: "community"}}},
		{code: "jb-zs", name: "中山街道", kind: "street"},
		{code: "jb-hp", name: "和平街道", kind: "street"},
		{code: "jb-tz", name: "桃镇", kind: "street"},
	}},
	{code: "jn", name: "江南区", kind: "district", children: []unitSpec{
		{code: "jn-jx", name: "锦绣街道", kind: "street", children: []unitSpec{{code: "jn-jx-jxhy", name: "锦绣花园社区", kind: "community"}}},
		{code: "jn-nh", name: "南湖街道", kind: "street"},
		{code: "jn-cq", name: "长青街道", kind: "street"},
	}},
	{code: "gx", name: "高新区", kind: "district", children: []unitSpec{
		{code: "gx-kc", name: "科创街道", kind: "street"},
		{code: "gx-yg", name: "云谷街道", kind: "street"},
		{code: "gx-zh", name: "智慧城街道", kind: "street"},
	}},
	{code: "lj", name: "临江县", kind: "district", children: []unitSpec{
		{code: "lj-cg", name: "城关镇", kind: "street"},
		{code: "lj-sx", name: "双溪镇", kind: "street"},
		{code: "lj-hs", name: "黄沙乡", kind: "street"},
		{code: "lj-qs", name: "青山镇", kind: "street"},
	}},
}

// places per district code: streets and landmarks used in addresses.
var places = map[string][]string{
	"jb": {"滨江路", "中山大道", "和平街", "幸福里小区", "望湖花园", "江北万达广场", "桃镇老街", "江北客运站"},
	"jn": {"锦绣花园", "南湖路", "长青大道", "江南体育馆", "南湖新村", "锦绣路菜市场", "江南第一中学"},
	"gx": {"科创大道", "云谷软件园", "智慧城小区", "高新一路", "创业大厦", "高新区人才公寓"},
	"lj": {"城关镇人民路", "双溪镇政府附近", "黄沙乡中心小学", "青山镇卫生院", "临江县汽车站", "县城南门菜市场"},
}

// category is a node of the demo category tree with what people say about
// it: each matter is a title template and a body template; {p} is a place.
type category struct {
	code, name string
	children   []category
	// dept is the responsible city department/utility (catalogue, city-wide);
	// local means the district government handles it (属地管理).
	dept    string
	local   bool
	matters [][2]string
	types   []ticket.Type
}

var categories = []category{
	{code: "01", name: "城乡建设", children: []category{
		{code: "0101", name: "房屋建设", dept: "zjj", children: []category{
			{code: "010101", name: "建筑施工", matters: [][2]string{
				{"{p}工地夜间施工噪音扰民", "{p}附近的工地每天晚上十一点以后还在施工，打桩声音很大，严重影响周边居民休息，希望有关部门管一管。"},
				{"{p}建筑工地扬尘严重", "{p}旁边工地没有围挡和喷淋，刮风时灰尘满天，家里窗台每天都是灰。"}},
				types: []ticket.Type{ticket.Complaint, ticket.Report}},
			{code: "010102", name: "房屋质量", matters: [][2]string{
				{"{p}新房交付后墙体开裂渗水", "去年在{p}买的商品房，交房不到一年外墙开裂，下雨时卧室渗水，开发商一直推诿不修。"}},
				types: []ticket.Type{ticket.Complaint, ticket.Help}},
		}},
		{code: "0102", name: "物业管理", local: true, children: []category{
			{code: "010201", name: "电梯维修", matters: [][2]string{
				{"{p}电梯长期故障无人维修", "{p}3栋的电梯坏了半个月，物业说在等配件，楼里有很多老人上下楼非常困难。"}},
				types: []ticket.Type{ticket.Complaint, ticket.Help}},
			{code: "010202", name: "物业服务", matters: [][2]string{
				{"{p}物业擅自上涨物业费", "{p}物业公司没有召开业主大会就通知每平米物业费上涨五毛钱，请问是否合规。"},
				{"咨询{p}业主委员会成立流程", "我们{p}的业主想成立业主委员会，请问需要什么条件，向哪个部门申请。"}},
				types: []ticket.Type{ticket.Consultation, ticket.Complaint}},
		}},
		{code: "0103", name: "市容管理", local: true, children: []category{
			{code: "010301", name: "占道经营", matters: [][2]string{
				{"{p}流动摊贩占道经营", "每天傍晚{p}人行道上都是流动摊贩，行人只能走机动车道，很不安全。"}}, types: []ticket.Type{ticket.Complaint, ticket.Report}},
			{code: "010302", name: "垃圾清运", matters: [][2]string{
				{"{p}垃圾清运不及时", "{p}的垃圾桶已经三天没有清运，夏天气味很大，还招苍蝇。"}}, types: []ticket.Type{ticket.Complaint, ticket.Help}},
			{code: "010303", name: "路灯照明", matters: [][2]string{
				{"{p}路灯不亮", "{p}一段有七八盏路灯晚上不亮，已经一个多星期，晚上走路很黑。"}}, types: []ticket.Type{ticket.Help, ticket.Complaint}},
		}},
	}},
	{code: "02", name: "环境保护", children: []category{
		{code: "0201", name: "大气污染", dept: "sthj", children: []category{
			{code: "020101", name: "餐饮油烟", matters: [][2]string{
				{"{p}餐馆油烟直排", "{p}楼下新开的烧烤店油烟直接排到居民楼，晚上窗户都不敢开。"}}, types: []ticket.Type{ticket.Complaint}},
			{code: "020102", name: "工业废气", matters: [][2]string{
				{"{p}附近工厂夜间排放刺鼻气味", "{p}附近有家工厂晚上偷偷排放废气，味道刺鼻，孩子咳嗽不止。"}}, types: []ticket.Type{ticket.Report, ticket.Complaint}},
		}},
		{code: "0202", name: "噪声污染", dept: "sthj", children: []category{
			{code: "020201", name: "社会生活噪声", matters: [][2]string{
				{"{p}广场舞音响声音过大", "{p}广场舞每晚音响开得很大，持续到十点以后，影响学生学习和老人休息。"}}, types: []ticket.Type{ticket.Complaint}},
		}},
		{code: "0203", name: "水污染", dept: "swj", children: []category{
			{code: "020301", name: "河道污染", matters: [][2]string{
				{"{p}附近河道发黑发臭", "{p}旁边的小河最近发黑发臭，有排污口往河里排污水。"}}, types: []ticket.Type{ticket.Report, ticket.Complaint}},
		}},
	}},
	{code: "03", name: "交通运输", children: []category{
		{code: "0301", name: "公交运营", dept: "bus", children: []category{
			{code: "030101", name: "线路班次", matters: [][2]string{
				{"反映12路公交末班车提前收车", "12路公交末班车时刻表写的是晚上十点，但经常九点半就没车了，{p}附近下班的人很不方便。"},
				{"建议增开{p}方向公交线路", "{p}新建小区入住率很高，但附近没有公交站，建议增开或调整线路。"}},
				types: []ticket.Type{ticket.Complaint, ticket.Suggestion}},
			{code: "030102", name: "司乘服务", matters: [][2]string{
				{"表扬公交司机拾金不昧", "今天在{p}坐公交时把钱包落在车上，司机师傅主动联系我归还，特此表扬。"},
				{"公交司机服务态度差", "在{p}站上车时司机不等乘客站稳就急刹急起，乘客提醒后还出言不逊。"}},
				types: []ticket.Type{ticket.Praise, ticket.Complaint}},
		}},
		{code: "0302", name: "道路交通", dept: "jtj", children: []category{
			{code: "030201", name: "道路设施", matters: [][2]string{
				{"{p}路面塌陷有安全隐患", "{p}路口路面出现一个大坑，已经有电动车摔倒，请尽快修复。"}}, types: []ticket.Type{ticket.Help, ticket.Complaint}},
			{code: "030202", name: "出租网约车", matters: [][2]string{
				{"出租车在{p}拒载绕路", "在{p}打出租车，司机嫌路程短拒载，上车后又故意绕路。"}}, types: []ticket.Type{ticket.Complaint, ticket.Report}},
		}},
	}},
	{code: "04", name: "教育文体", children: []category{
		{code: "0401", name: "学校管理", dept: "jyj", children: []category{
			{code: "040101", name: "入学政策", matters: [][2]string{
				{"咨询随迁子女入学条件", "我在{p}附近租房工作，孩子今年上小学，请问外地户籍需要准备哪些材料。"},
				{"咨询{p}学区划分", "请问{p}属于哪所小学的学区，今年的划片范围有没有调整。"}}, types: []ticket.Type{ticket.Consultation}},
			{code: "040102", name: "校外培训", matters: [][2]string{
				{"{p}校外培训机构违规收费", "{p}的一家培训机构一次性收取两年学费，现在老板跑路了，家长们无法退费。"}}, types: []ticket.Type{ticket.Report, ticket.Help}},
		}},
		{code: "0402", name: "文化旅游", dept: "wlj", children: []category{
			{code: "040201", name: "景区服务", matters: [][2]string{
				{"建议{p}景区增加无障碍设施", "带老人去{p}游玩，发现很多地方没有无障碍通道，建议完善。"}}, types: []ticket.Type{ticket.Suggestion}},
		}},
	}},
	{code: "05", name: "劳动和社会保障", children: []category{
		{code: "0501", name: "社会保险", dept: "rsj", children: []category{
			{code: "050101", name: "养老保险", matters: [][2]string{
				{"咨询灵活就业人员社保缴费标准", "我是灵活就业人员，住在{p}附近，请问今年养老保险的缴费基数和档次是多少，在哪里办理。"},
				{"咨询养老金领取手续", "我父亲下个月满六十岁，请问办理退休领取养老金需要准备哪些材料。"}}, types: []ticket.Type{ticket.Consultation}},
			{code: "050102", name: "医疗保险", dept: "ybj", matters: [][2]string{
				{"咨询异地就医备案办理", "我在外地长期居住，请问医保异地就医备案怎么在手机上办理。"}}, types: []ticket.Type{ticket.Consultation}},
		}},
		{code: "0502", name: "劳动关系", dept: "rsj", children: []category{
			{code: "050201", name: "拖欠工资", matters: [][2]string{
				{"{p}工地拖欠农民工工资", "我们在{p}工地干了三个月活，包工头一直拖欠工资不发，二十多个工友都没拿到钱。"}}, types: []ticket.Type{ticket.Help, ticket.Complaint}},
		}},
	}},
	{code: "06", name: "商贸旅游", children: []category{
		{code: "0601", name: "市场监管", dept: "scj", children: []category{
			{code: "060101", name: "食品安全", matters: [][2]string{
				{"{p}超市销售过期食品", "在{p}的超市买到过期的酸奶，要求退换被拒绝。"}}, types: []ticket.Type{ticket.Report, ticket.Complaint}},
			{code: "060102", name: "消费维权", matters: [][2]string{
				{"{p}健身房闭店无法退卡", "在{p}办的健身年卡，店铺突然关门，还有两千多元余额无法退。"}}, types: []ticket.Type{ticket.Complaint, ticket.Help}},
		}},
	}},
	{code: "07", name: "卫生计生", children: []category{
		{code: "0701", name: "医疗服务", dept: "wjw", children: []category{
			{code: "070101", name: "医院管理", matters: [][2]string{
				{"{p}附近医院挂号难", "{p}附近医院的专家号每次一放出来就没有了，怀疑有号贩子。"},
				{"表扬{p}医院医护人员", "我母亲在{p}医院住院期间，护士们照顾得非常细心，特此表扬。"}}, types: []ticket.Type{ticket.Complaint, ticket.Praise}},
			{code: "070102", name: "疫苗接种", matters: [][2]string{
				{"咨询{p}附近流感疫苗接种点", "请问{p}附近哪里可以接种流感疫苗，需要预约吗。"}}, types: []ticket.Type{ticket.Consultation}},
		}},
	}},
	{code: "08", name: "公用事业", children: []category{
		{code: "0801", name: "供水", dept: "water", children: []category{
			{code: "080101", name: "停水", matters: [][2]string{
				{"{p}突然停水没有通知", "{p}从早上开始停水，没有看到任何停水通知，什么时候能恢复。"}}, types: []ticket.Type{ticket.Help, ticket.Consultation}},
		}},
		{code: "0802", name: "供电", dept: "power", children: []category{
			{code: "080201", name: "停电", matters: [][2]string{
				{"{p}频繁停电", "{p}这个月已经停电四次，冰箱里的东西都坏了，请查明原因。"}}, types: []ticket.Type{ticket.Complaint, ticket.Help}},
		}},
		{code: "0803", name: "燃气", dept: "gas", children: []category{
			{code: "080301", name: "燃气安全", matters: [][2]string{
				{"{p}楼道有燃气味", "{p}2单元楼道里有明显的燃气味，担心泄漏，请尽快派人检查。"}}, types: []ticket.Type{ticket.Help}},
		}},
	}},
}

var surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾")
var givenNames = []string{"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "秀英", "桂兰", "建国", "晓东", "海燕", "志强", "雪梅", "子涵", "浩然", "欣怡"}
