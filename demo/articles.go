package demo

import (
	"context"

	"github.com/hotline12345/hotline/kb"
	"github.com/hotline12345/hotline/storage"
)

// articles of the demo knowledge base: our own wording of the answers a
// city hotline gives most often.
var articles = []kb.Article{
	{Title: "灵活就业人员如何参加养老保险", Kind: "procedure", Category: "0501", Public: true, Tags: []string{"社保", "灵活就业"},
		Body: "灵活就业人员可持身份证到户籍地或居住地社保经办机构，或通过“江城人社”APP办理参保登记。\n\n缴费基数可在全省上年度全口径城镇单位就业人员平均工资的60%至300%之间自选，按月或按年缴纳。"},
	{Title: "退休养老金领取手续", Kind: "procedure", Category: "0501", Public: true, Tags: []string{"养老金", "退休"},
		Body: "达到法定退休年龄前一个月，由单位或本人向社保经办机构提出申请，提交身份证、档案等材料；审核通过后次月起按月发放养老金。"},
	{Title: "医保异地就医备案办理", Kind: "procedure", Category: "0501", Public: true, Tags: []string{"医保", "异地就医"},
		Body: "长期异地居住或临时外出就医的参保人，可通过国家医保服务平台APP或江城医保公众号在线办理备案，备案后在就医地定点医院直接结算。"},
	{Title: "随迁子女入学需要哪些材料", Kind: "faq", Category: "0401", Public: true, Tags: []string{"入学", "随迁子女"},
		Body: "一般需提供：父母居住证、在本市的合法稳定住所证明（房产证或租房备案）、就业或社保证明、户口簿和儿童出生证明。具体以各区教育局当年招生公告为准。"},
	{Title: "夜间施工噪声投诉处理口径", Kind: "duty", Category: "0101", Public: false, Tags: []string{"噪音", "施工"},
		Body: "22时至次日6时的建筑施工噪声，属地生态环境部门负责查处；确需连续作业的须持有夜间施工许可并公示。话务员受理时请记录工地名称、具体位置和施工时段，按“环境保护-噪声污染”派单。"},
	{Title: "住房公积金商转公贷款条件", Kind: "policy", Category: "0101", Public: true, Tags: []string{"公积金", "商转公"},
		Body: "连续足额缴存住房公积金满12个月、商业贷款已正常还款满12个月且无逾期的，可向住房公积金管理中心申请商业贷款转公积金贷款。"},
	{Title: "路灯不亮如何报修", Kind: "faq", Category: "0103", Public: true, Tags: []string{"路灯", "报修"},
		Body: "城市道路路灯由城市管理部门负责维护，可拨打12345登记报修，请说明道路名称、路灯杆号或附近门牌号；一般路灯故障在48小时内修复。"},
	{Title: "燃气泄漏应急处置", Kind: "procedure", Category: "0803", Public: true, Tags: []string{"燃气", "应急"},
		Body: "闻到燃气味时，请立即关闭燃气总阀，打开门窗通风，不要开关电器、不要使用明火，到室外拨打燃气公司24小时抢修电话或119。"},
	{Title: "农民工工资被拖欠怎么办", Kind: "procedure", Category: "0502", Public: true, Tags: []string{"欠薪", "劳动监察"},
		Body: "可向用工所在地人力资源和社会保障部门劳动保障监察机构投诉，提供劳动合同、考勤或工资条等证据；也可拨打12345，由热线转劳动监察部门办理。"},
	{Title: "公交线路和末班车时间查询", Kind: "faq", Category: "0301", Public: true, Tags: []string{"公交", "末班车"},
		Body: "各线路首末班时间可在“江城公交”APP或公交站牌查询。末班车提前收车的，可向公交集团或12345反映，注明线路、站点和时间。"},
}

// SeedArticles publishes the demo knowledge base once, as the demo editor.
func SeedArticles(ctx context.Context, store *storage.Store, k *kb.Service) (int, error) {
	if existing, err := k.List(ctx, kb.Published, 1); err != nil || len(existing) > 0 {
		return 0, err
	}
	editor, err := store.Authenticate(ctx, "editor1", Password)
	if err != nil {
		return 0, err
	}
	for _, a := range articles {
		if _, err := k.Create(ctx, a, true, editor); err != nil {
			return 0, err
		}
	}
	return len(articles), nil
}
